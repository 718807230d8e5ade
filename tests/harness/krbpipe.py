# SPDX-License-Identifier: MIT
"""Drives handshakes between our library (tests/tools/sspi_pipe) and MIT GSSAPI
or gss-ntlmssp (python3-gssapi) or another sspi_pipe. Each side offers leg(token) ->
(out_token or None, status) with status "CONTINUE", "OK" or ("ERR", code, text)."""

import base64
import os
import subprocess

SEC_E = {
    "SEC_E_INVALID_TOKEN": 0x80090308,
    "SEC_E_LOGON_DENIED": 0x8009030C,
    "SEC_E_NO_CREDENTIALS": 0x8009030E,
    "SEC_E_MESSAGE_ALTERED": 0x8009030F,
    "SEC_E_TARGET_UNKNOWN": 0x80090303,
    "SEC_E_WRONG_PRINCIPAL": 0x80090322,
    "SEC_E_TIME_SKEW": 0x80090324,
    "SEC_E_BAD_BINDINGS": 0x80090346,
    "SEC_E_NO_AUTHENTICATING_AUTHORITY": 0x80090311,
    "SEC_E_OUT_OF_SEQUENCE": 0x80090310,
}


def tool_path():
    build = os.environ.get("GH_BUILD", "build/asan")
    for cand in (os.path.join(build, "tests", "tools", "sspi_pipe"), os.path.join(build, "sspi_pipe")):
        if os.access(cand, os.X_OK):
            return cand
    return None


class ToolSide:
    def __init__(self, mode, args, env):
        self.proc = subprocess.Popen([tool_path(), mode] + args, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        self.ok_fields = None
        self.err = None

    def _line(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("sspi_pipe died: " + self.proc.stderr.read()[-3000:])
        return line.rstrip("\n")

    def leg(self, token):
        if token is not None:
            self.proc.stdin.write(base64.b64encode(token).decode() + "\n")
            self.proc.stdin.flush()
        out = None
        line = self._line()
        if line.startswith("TOKEN "):
            out = base64.b64decode(line[6:])
            line = self._line()
        if line == "CONTINUE":
            return out, "CONTINUE"
        if line.startswith("OK"):
            self.ok_fields = line.split(" ")[1:]
            return out, "OK"
        if line.startswith("ERR "):
            parts = line.split(" ", 2)
            self.err = (int(parts[1], 16), parts[2] if len(parts) > 2 else "")
            return out, ("ERR",) + self.err
        raise RuntimeError("unexpected line from sspi_pipe: " + line)

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self._line()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        # Sanitizer reports (leaks, UB) fail the test that started the tool.
        if "ERROR: AddressSanitizer" in err or "ERROR: LeakSanitizer" in err or \
                "runtime error:" in err:
            raise AssertionError("sanitizer report from sspi_pipe:\n" + err[-4000:])
        return self.proc.returncode


class GssSide:
    """MIT GSSAPI through python3-gssapi, same interface."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.err = None

    def leg(self, token):
        import gssapi
        try:
            out = self.ctx.step(token)
        except gssapi.exceptions.GSSError as e:
            self.err = e
            return None, ("ERR", e.maj_code, str(e))
        try:
            return out, "OK" if self.ctx.complete else "CONTINUE"
        except gssapi.exceptions.GSSError as e:
            # python-gssapi hands out an error token (e.g. an SPNEGO reject)
            # and raises the failure on the next access.
            self.err = e
            return out, ("ERR", e.maj_code, str(e))

    def close(self):
        return 0


def handshake(ini, acc, tamper=None):
    """Runs the loop; tamper(leg_index, token) may rewrite a token in flight.
    Returns (initiator status, acceptor status)."""
    tok, ist = ini.leg(None)
    ast = None
    n = 0
    while True:
        if ist not in ("OK", "CONTINUE"):
            return ist, ast
        if tok is None:
            return ist, ast
        if tamper:
            tok = tamper(n, tok)
        n += 1
        tok, ast = acc.leg(tok)
        if ast not in ("OK", "CONTINUE") or tok is None:
            return ist, ast
        if ist == "OK":
            return "EXTRA-TOKEN", ast
        tok, ist = ini.leg(tok)
