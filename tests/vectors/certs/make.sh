#!/bin/sh
# SPDX-License-Identifier: MIT
# How the stored client certificate vectors were made (openssl 3, Debian 12).
# Stored rather than regenerated so that tests read bytes a real tool wrote.
set -eu
cat > upn.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
0.DC = org
1.DC = example
O = Example Org
0.OU = Staff
1.OU = Admins
CN = Alice Example
[ext]
subjectAltName = otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@example.org, email:alice@example.org
CNF
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -config upn.cnf -extensions ext -days 3650 -outform DER -out upn_alice.der
rm -f upn.cnf
openssl x509 -inform DER -in upn_alice.der -noout -fingerprint -sha256 | sed 's/.*=//' \
    > upn_alice.sha256
