// SPDX-License-Identifier: MIT
// A CredSSP server written the way Microsoft documents AcceptSecurityContext
// (CredSSP) (written here from the documentation, not copied): the "CREDSSP"
// package with a CREDSSP_CRED whose SCHANNEL_CRED holds the server
// certificate, the accept loop, then the client's identity (SECPKG_ATTR_NAMES,
// QuerySecurityContextToken closed with CloseHandle, an impersonation attempt),
// the delegated credentials and one message each way through the TLS channel.
// Compiled unchanged as ANSI and as UNICODE.
//
// One gatehouse name is used on purpose: Windows puts the delegated
// credentials into the server's logon session, where the server uses them by
// impersonating; gatehouse logs nobody on and hands them to the application
// (SECPKG_ATTR_GH_DELEGATED_CREDENTIALS, docs/sspi.md "CredSSP").
//
//   credssp_server --pfx FILE [--password PW] [--port N]
//
// Users come from $GH_USER_STORE (Windows: the domain). Prints "port <n>",
// serves one connection; exit status 0 on success.
#include "tls_sample.h"

int
main(int argc, char **argv)
{
    const char *pszPfx = NULL, *pszPassword = "";
    HCERTSTORE hPfx = NULL;
    USHORT port = 0;
    PCCERT_CONTEXT pServerCert = NULL;
    SCHANNEL_CRED SchannelCred;
    CREDSSP_CRED CredSspCred;
    CredHandle hCred;
    CtxtHandle hCtxt;
    TimeStamp tsExpiry;
    SECURITY_STATUS ss;
    SecPkgContext_Names Names;
    SecPkgContext_StreamSizes Sizes;
    SecPkgContext_GhDelegatedCredentials Delegated;
    HANDLE hToken = NULL;
    ULONG fContextAttr = 0;
    BYTE *pbIo = NULL, *pbData = NULL;
    DWORD cbIo = 0, cbData = 0;
    char szAnswer[512];
    struct sockaddr_in sin;
    socklen_t cbSin = sizeof(sin);
    SOCKET listener = INVALID_SOCKET, s = INVALID_SOCKET;
    int arg, rc = 1, one = 1;

    SecInvalidateHandle(&hCred);
    SecInvalidateHandle(&hCtxt);
    for (arg = 1; arg < argc; arg++) {
        if (strcmp(argv[arg], "--pfx") == 0 && arg + 1 < argc)
            pszPfx = argv[++arg];
        else if (strcmp(argv[arg], "--password") == 0 && arg + 1 < argc)
            pszPassword = argv[++arg];
        else if (strcmp(argv[arg], "--port") == 0 && arg + 1 < argc)
            port = (USHORT)atoi(argv[++arg]);
        else
            break;
    }
    if (arg != argc || pszPfx == NULL) {
        fprintf(stderr, "usage: %s --pfx FILE [--password PW] [--port N]\n", argv[0]);
        return 2;
    }
    pbIo = (BYTE *)malloc(IO_BUFFER_SIZE);
    pbData = (BYTE *)malloc(IO_BUFFER_SIZE);
    if (pbIo == NULL || pbData == NULL)
        goto cleanup;

    pServerCert = CertificateFromPfx(pszPfx, pszPassword, &hPfx);
    if (pServerCert == NULL)
        goto cleanup;
    memset(&SchannelCred, 0, sizeof(SchannelCred));
    SchannelCred.dwVersion = SCHANNEL_CRED_VERSION;
    SchannelCred.cCreds = 1;
    SchannelCred.paCred = &pServerCert;
    memset(&CredSspCred, 0, sizeof(CredSspCred));
    CredSspCred.Type = CredsspSubmitBufferBoth;
    CredSspCred.pSchannelCred = &SchannelCred;
    CredSspCred.pSpnegoCred = NULL; /* the acceptor's defaults */
    ss = AcquireCredentialsHandle(NULL, CREDSSP_NAME, SECPKG_CRED_INBOUND, NULL, &CredSspCred, NULL,
                                  NULL, &hCred, &tsExpiry);
    if (ss != SEC_E_OK) {
        PrintFailure(stdout, "AcquireCredentialsHandle", ss);
        goto cleanup;
    }

    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener == INVALID_SOCKET)
        goto cleanup;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, (const char *)&one, sizeof(one));
    LoopbackAddress(&sin, port);
    if (bind(listener, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(listener, 1) != 0 ||
        getsockname(listener, (struct sockaddr *)&sin, &cbSin) != 0) {
        perror("bind");
        goto cleanup;
    }
    printf("port %u\n", (unsigned)ntohs(sin.sin_port));
    fflush(stdout);
    s = accept(listener, NULL, NULL);
    if (s == INVALID_SOCKET)
        goto cleanup;

    ss = ServerHandshake(s, &hCred,
                         ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_EXTENDED_ERROR | ASC_REQ_STREAM |
                             ASC_REQ_CONFIDENTIALITY | ASC_REQ_SEQUENCE_DETECT |
                             ASC_REQ_REPLAY_DETECT | ASC_REQ_DELEGATE,
                         &hCtxt, NULL, pbIo, &cbIo, &fContextAttr);
    if (ss != SEC_E_OK) {
        PrintFailure(stdout, "AcceptSecurityContext", ss);
        goto cleanup;
    }
    printf("context complete, attributes 0x%08lx\n", (ULONG)fContextAttr);

    ss = QueryContextAttributes(&hCtxt, SECPKG_ATTR_NAMES, &Names);
    if (ss != SEC_E_OK) {
        PrintFailure(stdout, "QueryContextAttributes(SECPKG_ATTR_NAMES)", ss);
        goto cleanup;
    }
    PrintTString("client: ", Names.sUserName);
    FreeContextBuffer(Names.sUserName);
    ss = QuerySecurityContextToken(&hCtxt, &hToken);
    if (ss != SEC_E_OK) {
        PrintFailure(stdout, "QuerySecurityContextToken", ss);
        goto cleanup;
    }
    if (CloseHandle(hToken))
        printf("access token closed\n");
    /* Windows impersonates any authenticated client; here only one that maps
     * to a local account, in a process allowed to switch ids. */
    ss = ImpersonateSecurityContext(&hCtxt);
    if (ss == SEC_E_OK) {
        printf("impersonating the client\n");
        RevertSecurityContext(&hCtxt);
    } else {
        PrintFailure(stdout, "ImpersonateSecurityContext", ss);
    }
    ss = QueryContextAttributes(&hCtxt, SECPKG_ATTR_GH_DELEGATED_CREDENTIALS, &Delegated);
    if (ss == SEC_E_OK && Delegated.Identity.UserLength > 0)
        printf("delegated: %.*s\\%.*s (password of %lu bytes), CredSSP version %lu\n",
               (int)Delegated.Identity.DomainLength, (const char *)Delegated.Identity.Domain,
               (int)Delegated.Identity.UserLength, (const char *)Delegated.Identity.User,
               (ULONG)Delegated.Identity.PasswordLength, (ULONG)Delegated.Version);
    else if (ss == SEC_E_OK)
        printf("delegated: nothing (the client did not delegate)\n");
    else
        PrintFailure(stdout, "QueryContextAttributes(SECPKG_ATTR_GH_DELEGATED_CREDENTIALS)", ss);
    PrintConnectionInfo(&hCtxt);

    ss = QueryContextAttributes(&hCtxt, SECPKG_ATTR_STREAM_SIZES, &Sizes);
    if (ss != SEC_E_OK) {
        PrintFailure(stdout, "QueryContextAttributes(SECPKG_ATTR_STREAM_SIZES)", ss);
        goto cleanup;
    }
    ss = ReceiveDecrypt(s, &hCtxt, pbIo, &cbIo, pbData, IO_BUFFER_SIZE - 1, &cbData);
    if (ss != SEC_E_OK) {
        PrintFailure(stdout, "DecryptMessage", ss);
        goto cleanup;
    }
    pbData[cbData] = 0;
    printf("client says: %s\n", (const char *)pbData);
    snprintf(szAnswer, sizeof(szAnswer), "hello, %.*s", (int)(cbData < 200 ? cbData : 200),
             (const char *)pbData);
    ss = EncryptSend(s, &hCtxt, &Sizes, szAnswer, (DWORD)strlen(szAnswer));
    if (ss != SEC_E_OK) {
        PrintFailure(stdout, "EncryptMessage", ss);
        goto cleanup;
    }
    rc = 0;

cleanup:
    fflush(stdout);
    if (s != INVALID_SOCKET)
        closesocket(s);
    if (listener != INVALID_SOCKET)
        closesocket(listener);
    ReleaseHandles(&hCtxt, &hCred);
    if (pServerCert != NULL)
        CertFreeCertificateContext(pServerCert);
    if (hPfx != NULL)
        CertCloseStore(hPfx, 0);
    free(pbIo);
    free(pbData);
    return rc;
}
