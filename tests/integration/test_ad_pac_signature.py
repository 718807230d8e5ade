# SPDX-License-Identifier: MIT
"""A ticket whose PAC signature does not verify is refused (issue 9).

The Samba AD DC issues carol a real service ticket for HTTP/localhost. With
the service's own key (the keytab) the test decrypts the ticket (python3-
impacket's Kerberos crypto and ASN.1), changes one byte of the PAC's logon
info (carol's RID: another user's identity), and encrypts the ticket again
with the same key. The ticket itself is then perfectly valid for the
service; only the PAC's server signature no longer matches. curl --negotiate
presents it from the ccache: gatehouse must answer 401 and audit a failure.

A control ticket, decrypted and re-encrypted without any change, must still
give 200: the surgery itself does not break tickets, so the 401 is the PAC
check's doing.
"""
import os
import re
import struct
import subprocess

import ghskip
from authclients import check, finish
import sambadc
from ghserver import GhServer




def status_of(text):
    codes = re.findall(r"(?m)^HTTP/1\.1 (\d{3})", text)
    return int(codes[-1]) if codes else 0


def tamper_pac(pac, user_rid_delta):
    """The PAC (MS-PAC 2.3 PACTYPE) with the logon info's UserId changed."""
    pac = bytearray(pac)
    count = struct.unpack_from("<I", pac, 0)[0]
    for i in range(count):
        typ, size, off = struct.unpack_from("<IIQ", pac, 8 + 16 * i)
        if typ == 1:  # PAC_LOGON_INFO: UserId at 0x78 (after the NDR headers)
            rid = struct.unpack_from("<I", pac, off + 0x78)[0]
            struct.pack_into("<I", pac, off + 0x78, rid + user_rid_delta)
            return bytes(pac)
    raise RuntimeError("no logon info in the PAC")


def rewrite_ticket(ccache_in, ccache_out, keytab, user_rid_delta):
    """Decrypts the HTTP/localhost ticket of ccache_in with the keytab's AES256
    key, optionally tampers with its PAC, re-encrypts it, writes ccache_out."""
    from impacket.krb5 import constants
    from impacket.krb5.asn1 import AD_IF_RELEVANT, EncTicketPart, Ticket
    from impacket.krb5.ccache import CCache
    from impacket.krb5.crypto import Key, _enctype_table
    from impacket.krb5.keytab import Keytab
    from pyasn1.codec.der import decoder, encoder

    cc = CCache.loadFile(ccache_in)
    cred = cc.getCredential("HTTP/localhost@CORP.TEST", anySPN=False)
    if cred is None:
        raise RuntimeError("no HTTP/localhost ticket in the ccache")
    ticket = decoder.decode(cred.ticket["data"], asn1Spec=Ticket())[0]
    etype = int(ticket["enc-part"]["etype"])
    kb = Keytab.loadFile(keytab).getKey("HTTP/localhost@CORP.TEST", specificEncType=etype)
    key = Key(etype, bytes(kb["keyvalue"]["data"]))
    cipher = _enctype_table[etype]
    plain = cipher.decrypt(key, 2, bytes(ticket["enc-part"]["cipher"]))
    enc = decoder.decode(plain, asn1Spec=EncTicketPart())[0]
    if user_rid_delta:
        for ad in enc["authorization-data"]:
            if int(ad["ad-type"]) != constants.AuthorizationDataType.AD_IF_RELEVANT.value:
                continue
            inner = decoder.decode(bytes(ad["ad-data"]), asn1Spec=AD_IF_RELEVANT())[0]
            for sub in inner:
                if int(sub["ad-type"]) == constants.AuthorizationDataType.AD_WIN2K_PAC.value:
                    sub["ad-data"] = tamper_pac(bytes(sub["ad-data"]), user_rid_delta)
            ad["ad-data"] = encoder.encode(inner)
    ticket["enc-part"]["cipher"] = cipher.encrypt(key, 2, encoder.encode(enc), None)
    data = encoder.encode(ticket)
    cred.ticket["data"] = data
    cred.ticket["length"] = len(data)
    cc.saveFile(ccache_out)


def main():
    try:
        import impacket.krb5.crypto  # noqa: F401
    except ImportError:
        ghskip.missing_peer("python3-impacket not importable", "python3-impacket")
    os.environ["LSAN_OPTIONS"] = "suppressions=" + os.path.join(
        os.path.dirname(os.path.abspath(sambadc.__file__)), "lsan-winbind.supp")
    with sambadc.DomainController() as dc:
        os.environ.update(dc.env)
        dc.kinit("carol")
        subprocess.run(["kvno", "HTTP/localhost"], env=dc.env, check=True, capture_output=True,
                       timeout=60)
        src = dc.ccache
        same = os.path.join(dc.dir, "same.cc")
        forged = os.path.join(dc.dir, "forged.cc")
        rewrite_ticket(src, same, dc.keytab, 0)
        rewrite_ticket(src, forged, dc.keytab, 1)
        audit = os.path.join(dc.dir, "audit.log")
        conf = f"""
auth_audit_log {audit};
auth_keytab {dc.keytab};
location /whoami {{ handler whoami; auth Negotiate; }}
"""
        with GhServer(conf) as srv:
            url = f"http://localhost:{srv.port()}/whoami"

            def curl(ccache):
                env = dict(dc.env, KRB5CCNAME="FILE:" + ccache)
                r = subprocess.run(["curl", "-s", "-i", "--max-time", "20", "--negotiate", "-u",
                                    ":", url], env=env, capture_output=True, timeout=30)
                return r.stdout.decode("utf-8", "replace")

            out = curl(same)
            check(status_of(out) == 200 and "carol@CORP.TEST" in out,
                  f"re-encrypted, unchanged ticket: 200 ({status_of(out)})")
            out = curl(forged)
            check(status_of(out) == 401, f"ticket with a tampered PAC: 401 ({status_of(out)})")
            check("carol@CORP.TEST" not in out, "no identity from the tampered PAC")
            with open(audit) as f:
                lines = f.read().splitlines()
            check(any("result=failure" in l and "sec_status=0x8009030c" in l for l in lines),
                  f"audited as a failure with SEC_E_LOGON_DENIED ({lines[-1:]})")
            srv.assert_alive()
    finish()


if __name__ == "__main__":
    main()
