from app.telephony.transferred import TransferredCallers


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_caller_back_from_a_transfer_is_known_once() -> None:
    callers = TransferredCallers(keep_seconds=60, clock=Clock())
    callers.remember("chan-1", "pinecrest")
    assert callers.take("chan-1") == "pinecrest"
    assert callers.take("chan-1") is None
    assert callers.take("chan-never-seen") is None


def test_callers_who_never_come_back_are_forgotten_by_age() -> None:
    clock = Clock()
    callers = TransferredCallers(keep_seconds=60, clock=clock)
    for n in range(100):  # answered transfers: they never come back
        callers.remember(f"answered-{n}", "harborview")
    clock.now += 30
    callers.remember("in-the-queue", "pinecrest")
    assert len(callers) == 101
    clock.now += 31  # the first hundred are now too old; the queued caller is not
    callers.remember("another", "harborview")
    assert len(callers) == 2
    assert callers.take("answered-5") is None
    assert callers.take("in-the-queue") == "pinecrest"
    clock.now += 61
    assert callers.take("another") is None  # too old even if never pruned


def test_the_same_channel_transferred_twice_keeps_the_latest() -> None:
    clock = Clock()
    callers = TransferredCallers(keep_seconds=60, clock=clock)
    callers.remember("chan-1", "harborview")
    clock.now += 50
    callers.remember("chan-1", "pinecrest")
    clock.now += 20  # 70 s after the first, 20 s after the second
    callers.remember("chan-2", "harborview")
    assert callers.take("chan-1") == "pinecrest"
