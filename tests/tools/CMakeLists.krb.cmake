# SPDX-License-Identifier: MIT
# krb_pipe: one side of a Kerberos / Negotiate handshake, base64 tokens over
# stdin/stdout (tests/integration/test_kerberos.py, test_negotiate.py).
# Included from tests/tools/CMakeLists.txt.
add_executable(krb_pipe ${CMAKE_CURRENT_LIST_DIR}/krb_pipe.c)
target_link_libraries(krb_pipe PRIVATE gh_all Threads::Threads)
