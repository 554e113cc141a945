"""Run an installed Asterisk with this repository's configuration in a directory of its own.

`make asterisk` and the live tests use it. Nothing outside the sandbox directory is written:
Asterisk's etc, var, run and log directories all point inside it; modules come from the
installation. The ports in the configuration can be shifted (the live tests do, so they never
collide with a development Asterisk on the default ports).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from app.pbx.secrets import Secrets, ensure_certificate
from app.pbx.secrets import write as write_secrets
from app.settings import PROJECT_ROOT
from app.telephony.ari_health import basic_auth

CONFIG_DIR = PROJECT_ROOT / "asterisk-config"
DIALPLAN_DIR = PROJECT_ROOT / "dialplan"
SOUNDS_DIR = PROJECT_ROOT / "sounds"


LOOPBACK = ("127.0.0.1/32",)


class AsteriskUnavailable(Exception):
    """No usable asterisk binary, or it would not start; the message says which and why."""


def find_asterisk() -> Path | None:
    """ASTERISK_BIN, else `asterisk` on PATH (also /usr/sbin and /usr/local/sbin)."""
    explicit = os.environ.get("ASTERISK_BIN")
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    found = shutil.which(
        "asterisk",
        path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"]),
    )
    return Path(found) if found else None


def find_modules_dir(binary: Path) -> Path:
    explicit = os.environ.get("ASTERISK_MODULES_DIR")
    candidates = [Path(explicit)] if explicit else []
    prefix = binary.resolve().parent.parent
    candidates += [
        prefix / "lib" / "asterisk" / "modules",
        prefix / "lib64" / "asterisk" / "modules",
        Path("/usr/lib/asterisk/modules"),
        Path("/usr/lib64/asterisk/modules"),
        Path("/usr/lib/x86_64-linux-gnu/asterisk/modules"),
    ]
    for candidate in candidates:
        if (candidate / "res_ari.so").exists():
            return candidate
    raise AsteriskUnavailable(
        f"no Asterisk modules (res_ari.so) found near {binary}; set ASTERISK_MODULES_DIR"
    )


def find_documentation_dir(binary: Path) -> Path | None:
    """The installed XML documentation: Asterisk built with it (the default) will not start
    without it; one built with --disable-xmldoc needs none."""
    prefix = binary.resolve().parent.parent
    for candidate in (
        prefix / "var" / "lib" / "asterisk" / "documentation",
        Path("/var/lib/asterisk/documentation"),
        Path("/usr/share/asterisk/documentation"),
    ):
        if (candidate / "core-en_US.xml").exists():
            return candidate
    return None


@dataclass(frozen=True)
class Ports:
    sip: int = 5060
    http: int = 8088
    rtp_start: int = 10000
    rtp_end: int = 10999
    https: int = 8089
    ami: int = 5038
    carrier: int | None = None  # the trunk's far end (a SIPp on this machine), when a test has one

    @classmethod
    def free(cls, rtp_start: int, *, carrier: bool = False) -> Ports:
        """Ports nothing on this machine uses (50 for RTP from rtp_start, which the caller
        spreads out): for a sandbox beside another Asterisk, or beside other sandboxes."""
        return cls(
            sip=free_tcp_udp_port(),
            http=free_tcp_udp_port(),
            rtp_start=rtp_start,
            rtp_end=rtp_start + 49,
            https=free_tcp_udp_port(),
            ami=free_tcp_udp_port(),
            carrier=free_tcp_udp_port() if carrier else None,
        )


def free_tcp_udp_port() -> int:
    """A loopback port free for both TCP and UDP (SIP listens on both)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


class AsteriskSandbox:
    def __init__(
        self,
        root: Path,
        *,
        ari_user: str,
        ari_password: str,
        ports: Ports | None = None,
        binary: Path | None = None,
        ami: tuple[str, str] | None = None,
        sip_passwords: dict[str, str] | None = None,
        carrier_networks: tuple[str, ...] = LOOPBACK,
        staff_networks: tuple[str, ...] = LOOPBACK,
    ) -> None:
        found = binary or find_asterisk()
        if found is None:
            raise AsteriskUnavailable(
                "no asterisk binary: install Asterisk 22 (Debian has no package; build it from "
                "source with the bundled pjproject) or set ASTERISK_BIN"
            )
        self.binary = found
        self.root = root.resolve()
        self.ports = ports or Ports()
        self.ari_user = ari_user
        self.ari_password = ari_password
        self.ami = ami
        self.sip_passwords = dict(sip_passwords or {})
        # SIP listens on loopback here: SIPp, a local softphone and the "carrier" are this
        # machine (the shipped configuration trusts no address of its own).
        self.carrier_networks = carrier_networks
        self.staff_networks = staff_networks
        self.etc = self.root / "etc"
        self.log_dir = self.root / "log"
        self.run_dir = self.root / "run"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def conf(self) -> Path:
        return self.etc / "asterisk.conf"

    @property
    def ari_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.http}/ari"

    @property
    def sip_address(self) -> str:
        return f"127.0.0.1:{self.ports.sip}"

    def prepare(self) -> None:
        """Lay out the sandbox: our files (ports shifted if asked), a generated ARI user."""
        var = self.root / "var"
        for directory in (
            self.etc,
            self.log_dir,
            self.run_dir,
            var / "lib",
            var / "spool",
            var / "lib" / "sounds",
        ):
            directory.mkdir(parents=True, exist_ok=True)
        modules = find_modules_dir(self.binary)
        self.conf.write_text(
            "[directories]\n"
            f"astetcdir => {self.etc}\n"
            f"astmoddir => {modules}\n"
            f"astvarlibdir => {var / 'lib'}\n"
            f"astdbdir => {var / 'lib'}\n"
            f"astkeydir => {var / 'lib'}\n"
            f"astdatadir => {var / 'lib'}\n"
            f"astagidir => {var / 'lib' / 'agi-bin'}\n"
            f"astspooldir => {var / 'spool'}\n"
            f"astrundir => {self.run_dir}\n"
            f"astlogdir => {self.log_dir}\n"
            f"astsbindir => {self.binary.resolve().parent}\n"
            "\n[options]\n"
            "nocolor = yes\n"
            "transmit_silence = yes\n"
            "hideconnect = yes\n"
        )
        for source in sorted(CONFIG_DIR.glob("*.conf")):
            (self.etc / source.name).write_text(self._shift_ports(source.read_text()))
        carrier = self.ports.carrier
        pjsip = (self.etc / "pjsip.conf").read_text()
        if carrier is not None and f"contact = sip:127.0.0.1:{carrier}\n" not in pjsip:
            raise AsteriskUnavailable("pjsip.conf's trunk contact was not found to point at")
        self._link(self.etc / "dialplan", DIALPLAN_DIR)
        documentation = find_documentation_dir(self.binary)
        if documentation is not None:
            self._link(var / "lib" / "documentation", documentation)
        # musiconhold.conf: the hotel's class, and the default class (Asterisk's packaged
        # hold music in production; in the sandbox the same tune stands in for it).
        self._link(var / "lib" / "frontdesk-moh", SOUNDS_DIR / "moh")
        self._link(var / "lib" / "moh", SOUNDS_DIR / "moh")
        for language in sorted(p for p in SOUNDS_DIR.iterdir() if p.is_dir() and p.name != "moh"):
            self._link(var / "lib" / "sounds" / language.name, language)
        write_secrets(
            self.etc,
            Secrets(
                ari_user=self.ari_user,
                ari_password=self.ari_password,
                ami_user=self.ami[0] if self.ami else None,
                ami_password=self.ami[1] if self.ami else None,
                sip_passwords=self.sip_passwords,
                carrier_networks=self.carrier_networks,
                staff_networks=self.staff_networks,
            ),
        )
        ensure_certificate(self.etc / "keys")

    def _shift_ports(self, text: str) -> str:
        p = self.ports
        if p.carrier is not None:
            text = text.replace(
                "contact = sip:frontdesk.pstn.twilio.com",
                f"contact = sip:127.0.0.1:{p.carrier}",
            )
        return (
            text.replace("127.0.0.1:5060", f"127.0.0.1:{p.sip}")
            .replace("bindport = 8088", f"bindport = {p.http}")
            .replace("rtpstart = 10000", f"rtpstart = {p.rtp_start}")
            .replace("rtpend = 10999", f"rtpend = {p.rtp_end}")
            .replace("127.0.0.1:8089", f"127.0.0.1:{p.https}")
            .replace("port = 5038", f"port = {p.ami}")
            .replace("/etc/asterisk/keys/", f"{self.etc}/keys/")
        )

    @staticmethod
    def _link(link: Path, target: Path) -> None:
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)

    def start(self, timeout: float = 60.0) -> None:
        """Start in the foreground mode (-f) as our child; wait until ARI answers."""
        self.prepare()
        log = (self.log_dir / "console.log").open("ab")
        self.process = subprocess.Popen(
            [str(self.binary), "-C", str(self.conf), "-f", "-n", "-q"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        (self.run_dir / "sandbox.pid").write_text(str(self.process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AsteriskUnavailable(
                    f"asterisk exited with {self.process.returncode}; see {self.log_dir / 'console.log'}"
                )
            if self.ari_ready():
                return
            time.sleep(0.2)
        self.stop()
        raise AsteriskUnavailable(f"ARI did not answer within {timeout:g}s; see {self.log_dir}")

    def ari_ready(self) -> bool:
        request = urllib.request.Request(
            f"{self.ari_url}/asterisk/ping",
            headers={"Authorization": basic_auth(self.ari_user, self.ari_password)},
        )
        try:
            with urllib.request.urlopen(request, timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def cli(self, command: str) -> str:
        """One Asterisk CLI command, through the control socket in the sandbox."""
        result = subprocess.run(
            [str(self.binary), "-C", str(self.conf), "-rx", command],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        return result.stdout

    def stop(self, timeout: float = 20.0) -> None:
        pid = self.process.pid if self.process else self._pid_from_file()
        if pid is None:
            return
        self.cli("core stop now")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            if self.process is not None:
                self.process.poll()
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=5)
            self.process = None
        (self.run_dir / "sandbox.pid").unlink(missing_ok=True)

    def _pid_from_file(self) -> int | None:
        try:
            return int((self.run_dir / "sandbox.pid").read_text())
        except (OSError, ValueError):
            return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child counts as gone
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"
