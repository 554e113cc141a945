"""The whole-call rig of test_agent_calls, for every test of this folder that drives a call."""

from tests.engines.test_agent_calls import rig  # noqa: F401
