"""A real Dovecot IMAP server on a loopback port, for the IMAP receiver's tests.

Dovecot runs from its own config and base_dir in a temporary folder. Started by root (CI), the
whole server runs as the unprivileged `dovecot` user, so its login processes never run as root
and the mail directory belongs to that user; started by anyone else, it runs as them.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import aioimaplib

USER, PASSWORD = "support@acme.example", "imap-password-123"
SERVICE_USER = "dovecot"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
"""


def dovecot_binary() -> str:
    found = shutil.which("dovecot") or ("/usr/sbin/dovecot"
                                        if os.path.exists("/usr/sbin/dovecot") else None)
    if found is None:
        raise RuntimeError("Dovecot is not installed: apt-get install dovecot-imapd "
                           "(.ci/run does this)")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Dovecot:
    def __init__(self, extra_config: str = "", tls: tuple[bytes, bytes] | None = None) -> None:
        """`tls`: (certificate PEM, key PEM) to offer STARTTLS and implicit TLS (imaps)."""
        self.extra_config = extra_config
        self.tls = tls
        self.root = Path(tempfile.mkdtemp(prefix="omniroute-dovecot-"))
        self.port = _free_port()
        self.tls_port = _free_port() if tls else 0
        self.process: subprocess.Popen[bytes] | None = None
        if os.geteuid() == 0:
            self.user = SERVICE_USER
            self.group = grp.getgrgid(pwd.getpwnam(SERVICE_USER).pw_gid).gr_name
        else:
            self.user = pwd.getpwuid(os.geteuid()).pw_name
            self.group = grp.getgrgid(os.getegid()).gr_name

    def start(self) -> None:
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir()
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        ssl = "ssl = no"
        if self.tls is not None:
            (self.root / "cert.pem").write_bytes(self.tls[0])
            (self.root / "key.pem").write_bytes(self.tls[1])
            ssl = (f"ssl = yes\nssl_cert = <{self.root}/cert.pem\n"
                   f"ssl_key = <{self.root}/key.pem")
        conf = self.root / "dovecot.conf"
        conf.write_text(CONFIG.format(root=self.root, user=self.user, group=self.group,
                                      port=self.port, imaps_port=self.tls_port, ssl=ssl)
                        + self.extra_config)
        if os.geteuid() == 0:
            uid, gid = pwd.getpwnam(self.user).pw_uid, grp.getgrnam(self.group).gr_gid
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, uid, gid)
        self.process = subprocess.Popen(
            [dovecot_binary(), "-F", "-c", str(conf)],
            user=self.user if os.geteuid() == 0 else None,
            group=self.group if os.geteuid() == 0 else None,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode() if self.process.stdout else ""
                raise RuntimeError(f"dovecot exited at start-up: {output}\n{self.log()}")
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=1) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot did not answer on port {self.port}\n{self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def process_users(self) -> set[str]:
        """Users the server's processes run as (from /proc), to prove none is root."""
        users: set[str] = set()
        assert self.process is not None
        pids = [self.process.pid, *self._children(self.process.pid)]
        for pid in pids:
            with contextlib.suppress(OSError):
                status = Path(f"/proc/{pid}/status").read_text()
                uid = next(int(line.split()[1]) for line in status.splitlines()
                           if line.startswith("Uid:"))
                users.add(pwd.getpwuid(uid).pw_name)
        return users

    def _children(self, pid: int) -> list[int]:
        found: list[int] = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                parent = int(stat.rpartition(")")[2].split()[1])
                if parent == pid:
                    found.append(int(entry.name))
                    found.extend(self._children(int(entry.name)))
        return found

    def imap_config(self, folder: str = "INBOX", **extra: object) -> dict[str, object]:
        return {"host": "127.0.0.1", "port": self.port, "security": "plain",
                "username": USER, "folder": folder, **extra}

    async def client(self) -> aioimaplib.IMAP4:
        imap = aioimaplib.IMAP4(host="127.0.0.1", port=self.port, timeout=10)
        await imap.wait_hello_from_server()
        response = await imap.login(USER, PASSWORD)
        assert response.result == "OK", response
        return imap

    async def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put one mail into the folder as the MTA's delivery agent would."""
        imap = await self.client()
        try:
            response = await imap.append(raw, mailbox=folder)
            assert response.result == "OK", response
        finally:
            await imap.logout()

    async def command(self, name: str, *args: str) -> None:
        imap = await self.client()
        try:
            response = await imap.protocol.simple_command(name, *args)
            assert response.result == "OK", response
        finally:
            await imap.logout()
