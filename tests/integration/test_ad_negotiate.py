# SPDX-License-Identifier: MIT
"""gatehouse as a member of an Active Directory domain (issue 9), against a real
Samba AD DC (tests/harness/sambadc.py) and real clients:

- curl --negotiate with a ticket from the Samba KDC: whoami shows the user's
  SID, the group SIDs from the PAC (nested group included) and, with
  auth_group_names winbind, their names from winbind; without it, SIDs only;
- the same service ticket on a new connection: a hit of the acceptor's ticket
  cache (the status module's counter) with the same principal, SIDs and UPN;
- auth_require group with the nested group by name (CORP\\Staff,
  Staff@corp.test) and by SID: 200; a group the user is not in: 403;
- the audit line shows the groups; the proxy's X-Remote-Groups carries the
  names and, opt-in, X-Remote-Group-SIDs the SIDs;
- gatehouse fetch --auth negotiate as a domain user;
- Basic against Kerberos (auth_basic_kerberos) with domain users, including
  the UPN spelling (frank.upn@corp.test); the disabled and the expired users
  refused (401) with their reason in the audit line;
- Basic against Kerberos gets the PAC too (the service ticket is accepted as
  a Negotiate token is): curl --basic as carol shows the same user SID, UPN,
  group SIDs and group names as curl --negotiate did; auth_require group by
  name and by SID: carol 200, frank (not in Staff) 403; a second request,
  answered from the Basic cache (its counter), has the same groups and SIDs;
- examples/sspi's server: LookupAccountSid names the PAC's user CORP\\carol.
"""
import http.server
import json
import os
import subprocess
import threading

import ghskip
from authclients import auth_of, check, curl, finish, last_response
import sambadc
from ghserver import GhServer, gh_bin, gh_example










class EchoHeaders(http.server.BaseHTTPRequestHandler):
    """The proxy's backend: answers the request headers as JSON."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def negotiate(env, url):
    status, _, body = last_response(curl(env, "--negotiate", "-u", ":", url))
    return status, auth_of(body)


def basic(env, url, user, password):
    status, _, body = last_response(curl(env, "-u", f"{user}:{password}", url))
    return status, auth_of(body)


def ticket_cache_hits(base, name="gatehouse_auth_kerberos_ticket_cache_hits_total"):
    """A counter of the status module (default: the Kerberos ticket cache's hits)."""
    r = subprocess.run(["curl", "-s", "--max-time", "20", base + "/metrics"],
                       capture_output=True, timeout=30)
    for line in r.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    return None


def identity(a):
    """What the PAC gives a record: user SID, UPN, group SIDs and names."""
    return (a.get("user_sid"), a.get("upn"), a.get("group_sids"), sorted(a.get("groups", [])))


def audit_lines(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except OSError:
        return []


def sspi_sample_output(env):
    """examples/sspi's Windows-style server and client with Kerberos (the
    client's ticket cache, the server's keytab): the server's output."""
    srv = subprocess.Popen([gh_example("sspi_server_a"), "Kerberos"], env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        first = srv.stdout.readline().split()
        if len(first) == 2 and first[0] == "port":
            subprocess.run([gh_example("sspi_client_a"), first[1], "Kerberos", "-", "CORP", "-"],
                           env=env, capture_output=True, timeout=60)
        return srv.communicate(timeout=60)[0]
    finally:
        srv.kill()


def main():
    try:
        sambadc._tool("samba")
        sambadc._tool("samba-tool")
    except FileNotFoundError:
        ghskip.missing_peer("samba / samba-tool not found", "samba-ad-dc")
    # With libnss-winbind in nsswitch.conf, the server's getpwnam of a domain
    # user goes through libnss_winbind, whose allocations NSS never frees.
    os.environ["LSAN_OPTIONS"] = "suppressions=" + os.path.join(
        os.path.dirname(os.path.abspath(sambadc.__file__)), "lsan-winbind.supp")
    with sambadc.DomainController() as dc:
        os.environ.update(dc.env)  # the server reads the keytab through KRB5_KTNAME
        dc.kinit("carol")
        staff_sid = dc.wbinfo("-n", "CORP\\Staff").stdout.split()[0]
        engineers_sid = dc.wbinfo("-n", "CORP\\Engineers").stdout.split()[0]
        finance_sid = dc.wbinfo("-n", "CORP\\Finance").stdout.split()[0]
        carol_sid = dc.user_sid("carol")
        audit = os.path.join(dc.dir, "audit.log")
        backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoHeaders)
        threading.Thread(target=backend.serve_forever, daemon=True).start()
        conf = f"""
auth_audit_log {audit};
auth_keytab {dc.keytab};
location /whoami {{ handler whoami; auth Negotiate; auth_group_names winbind; }}
location /sids {{ handler whoami; auth Negotiate; }}
location /staff {{ handler whoami; auth Negotiate; auth_group_names winbind;
                  auth_require group CORP\\Staff; }}
location /staffdns {{ handler whoami; auth Negotiate; auth_group_names winbind;
                     auth_require group Staff@corp.test; }}
location /staffsid {{ handler whoami; auth Negotiate; auth_require group {staff_sid}; }}
location /finance {{ handler whoami; auth Negotiate; auth_group_names winbind;
                    auth_require group CORP\\Finance; }}
location /financesid {{ handler whoami; auth Negotiate; auth_require group {finance_sid}; }}
location /proxy {{ handler proxy; proxy_pass http://127.0.0.1:{backend.server_address[1]};
                  auth Negotiate; auth_group_names winbind;
                  proxy_identity_header group_sids X-Remote-Group-SIDs; }}
location /basic {{ handler whoami; auth Basic; auth_basic_kerberos on; auth_basic_over_http on;
                  auth_basic_cache_ttl 0; }}
location /basicwho {{ handler whoami; auth Basic; auth_basic_kerberos on;
                     auth_basic_over_http on; auth_group_names winbind; }}
location /basicstaff {{ handler whoami; auth Basic; auth_basic_kerberos on;
                       auth_basic_over_http on; auth_group_names winbind;
                       auth_require group CORP\\Staff; }}
location /basicstaffsid {{ handler whoami; auth Basic; auth_basic_kerberos on;
                          auth_basic_over_http on; auth_require group {staff_sid}; }}
location /metrics {{ handler status; }}
"""
        with GhServer(conf) as srv:
            env = dict(dc.env)
            base = f"http://localhost:{srv.port()}"

            # 1. curl --negotiate: SIDs and names from the PAC and winbind
            status, a = negotiate(env, base + "/whoami")
            neg_who = a
            check(status == 200, f"curl --negotiate with a Samba ticket: 200 ({status})")
            check(a.get("principal") == "carol@CORP.TEST", f"principal {a.get('principal')}")
            check(a.get("user_sid") == carol_sid, f"user SID from the PAC ({a.get('user_sid')})")
            check(a.get("logon_domain") == "CORP" and a.get("dns_domain") == "CORP.TEST",
                  f"domains ({a.get('logon_domain')}, {a.get('dns_domain')})")
            check(a.get("upn") == "carol@corp.test", f"UPN from UPN_DNS_INFO ({a.get('upn')})")
            sids = [g.get("sid") for g in a.get("group_sids", [])]
            check(sids[:1] == [dc.domain_sid + "-513"], f"primary group first ({sids[:1]})")
            check(engineers_sid in sids and staff_sid in sids,
                  f"direct (Engineers) and nested (Staff) group SIDs ({sids})")
            check(finance_sid not in sids, "no Finance SID")
            groups = [g.lower() for g in a.get("groups", [])]
            check("corp\\engineers" in groups and "corp\\staff" in groups,
                  f"group names from winbind ({a.get('groups')})")
            names = {g.get("sid"): (g.get("name") or "").lower() for g in a.get("group_sids", [])}
            check(names.get(staff_sid) == "corp\\staff", f"SID -> name pairs ({names})")

            # 2. without auth_group_names: the SIDs are the groups
            status, a = negotiate(env, base + "/sids")
            check(status == 200 and staff_sid in a.get("groups", []) and
                  not any("\\" in g for g in a.get("groups", [])),
                  f"without auth_group_names the groups are SIDs ({a.get('groups')})")
            # The same service ticket again on a new connection: its identity
            # and PAC come from the acceptor's ticket cache (a hit), the same.
            hits = ticket_cache_hits(base)
            status, again = negotiate(env, base + "/sids")
            check(status == 200 and again.get("user_sid") == carol_sid and
                  again.get("upn") == "carol@corp.test" and
                  again.get("group_sids") == a.get("group_sids") and
                  again.get("principal") == "carol@CORP.TEST",
                  "the ticket's second use has the first one's principal, SIDs and UPN")
            check(hits is not None and ticket_cache_hits(base) == hits + 1,
                  "the ticket's second use was found in the ticket cache")

            # 3. auth_require group: nested group by name, DNS spelling and SID; not a member
            for path, want in (("/staff", 200), ("/staffdns", 200), ("/staffsid", 200),
                               ("/finance", 403), ("/financesid", 403)):
                status, _ = negotiate(env, base + path)
                check(status == want, f"auth_require group at {path}: {want} ({status})")

            # 4. the audit line names the groups
            lines = [l for l in audit_lines(audit) if "principal=carol@CORP.TEST" in l and
                     "result=success" in l]
            check(any("groups=" in l and "staff" in l.lower() for l in lines),
                  f"audit line with the groups ({lines[-1:] if lines else 'none'})")

            # 5. gatehouse fetch --auth negotiate as a domain user
            r = subprocess.run([gh_bin(), "fetch", "--timeout", "20", "--auth", "negotiate",
                                base + "/staff"], env=env, capture_output=True, timeout=60)
            out = r.stdout.decode(errors="replace")
            check(r.returncode == 0 and staff_sid in out,
                  f"gatehouse fetch --auth negotiate as carol ({r.returncode}, "
                  f"{r.stderr.decode(errors='replace')[-300:]})")

            # 6. the proxy's identity headers: names, and (opt-in) the SIDs; a
            # client's own X-Remote-Group-SIDs never reaches the backend
            status, _, body = last_response(curl(env, "--negotiate", "-u", ":", "-H",
                                                 "X-Remote-Group-SIDs: S-1-5-32-544",
                                                 base + "/proxy"))
            try:
                seen = json.loads(body)
            except ValueError:
                seen = {}
            check(status == 200 and "corp\\staff" in seen.get("x-remote-groups", "").lower(),
                  f"X-Remote-Groups with the winbind names ({seen.get('x-remote-groups')})")
            sids_hdr = seen.get("x-remote-group-sids", "")
            check(staff_sid in sids_hdr.split(",") and "S-1-5-32-544" not in sids_hdr,
                  f"X-Remote-Group-SIDs from the PAC only ({sids_hdr})")

            # 7. Basic against Kerberos with domain users
            status, a = basic(env, base + "/basic", "carol", dc.users["carol"])
            check(status == 200 and a.get("user") == "carol", f"Basic carol: 200 ({status})")
            status, a = basic(env, base + "/basic", sambadc.UPN, dc.users["frank"])
            check(status == 200, f"Basic with the UPN {sambadc.UPN}: 200 ({status}, "
                  f"{a.get('principal')})")
            status, _ = basic(env, base + "/basic", "carol", "wrong-password")
            check(status == 401, f"Basic carol, wrong password: 401 ({status})")
            for user, reason in ((sambadc.DISABLED_USER, "account_disabled"),
                                 (sambadc.EXPIRED_USER, "password_expired")):
                status, _ = basic(env, base + "/basic", user, dc.users[user])
                check(status == 401, f"Basic {user}: 401 ({status})")
                lines = [l for l in audit_lines(audit) if f"principal={user}" in l]
                check(any(f' reason={reason} ' in l for l in lines),
                      f"audit reason for {user} is {reason!r} ({lines[-1:]})")

            # 8. Basic against Kerberos gets the PAC: the same identity as Negotiate
            misses = ticket_cache_hits(base, "gatehouse_auth_basic_cache_misses_total")
            status, a = basic(env, base + "/basicwho", "carol", dc.users["carol"])
            check(status == 200 and a.get("user") == "carol" and a.get("package") == "Basic",
                  f"Basic carol with auth_group_names: 200 ({status}, {a.get('package')})")
            check(a.get("principal") == "carol@CORP.TEST", f"Basic principal {a.get('principal')}")
            check(a.get("user_sid") == carol_sid and a.get("upn") == "carol@corp.test",
                  f"Basic: user SID and UPN from the PAC ({a.get('user_sid')}, {a.get('upn')})")
            sids = [g.get("sid") for g in a.get("group_sids", [])]
            check(staff_sid in sids and engineers_sid in sids and finance_sid not in sids,
                  f"Basic: group SIDs from the PAC, nested Staff included ({sids})")
            check(identity(a) == identity(neg_who),
                  f"Basic has Negotiate's SIDs, UPN and groups ({identity(a)} vs "
                  f"{identity(neg_who)})")
            hits = ticket_cache_hits(base, "gatehouse_auth_basic_cache_hits_total")
            status, again = basic(env, base + "/basicwho", "carol", dc.users["carol"])
            check(status == 200 and identity(again) == identity(a) and
                  again.get("principal") == a.get("principal"),
                  f"Basic again (cached): the same identity ({identity(again)})")
            check(hits is not None and
                  ticket_cache_hits(base, "gatehouse_auth_basic_cache_hits_total") == hits + 1,
                  "the second Basic request was a hit of the Basic cache")
            check(misses is not None and
                  ticket_cache_hits(base, "gatehouse_auth_basic_cache_misses_total") == misses + 1,
                  "only the first Basic request asked the KDC")
            # auth_require group by name (winbind) and by SID: member, again (cached), not member
            for path in ("/basicstaff", "/basicstaffsid"):
                for n in (1, 2):
                    status, a = basic(env, base + path, "carol", dc.users["carol"])
                    check(status == 200 and a.get("user_sid") == carol_sid,
                          f"Basic carol at {path} (request {n}): 200 ({status})")
                status, _ = basic(env, base + path, "frank", dc.users["frank"])
                check(status == 403, f"Basic frank (not in Staff) at {path}: 403 ({status})")
            lines = [l for l in audit_lines(audit) if "principal=carol" in l and "scheme=Basic" in l]
            check(any("groups=" in l and "staff" in l.lower() for l in lines),
                  f"Basic audit line with the groups ({lines[-1:]})")
            srv.assert_alive()

        # 9. a program written against Windows SSPI: LookupAccountSid names the
        # PAC's user SID "CORP\carol" (SidTypeUser) from the token's PAC
        out = sspi_sample_output(env)
        check(f"user sid: {carol_sid}\n" in out and "account: CORP\\carol (type 1)\n" in out,
              f"sspi_server: TokenUser and LookupAccountSid of carol ({out[-600:]})")
        backend.shutdown()
    finish()


if __name__ == "__main__":
    main()
