// SPDX-License-Identifier: MIT
// An SSPI server written the Windows way, the counterpart of sspi_client.c:
// AcceptSecurityContext until done, the client's name, its access token
// (QuerySecurityContextToken; its user SID and that SID's account through
// LookupAccountSid; then CloseHandle), one encrypted message each
// way and one signed message from the client (VerifySignature). Written from the description of
// Microsoft's sockets server sample, not copied; compiles unchanged against Windows' headers and
// against gatehouse's compat directory (docs/sspi.md, "Porting from Windows").
//
//   sspi_server PACKAGE
//
// Listens on 127.0.0.1 (a free port, printed as "port N"), serves one client
// and exits: 0 when the client authenticated and the messages decrypted. On
// Windows the acceptor's credentials come from the machine; with gatehouse
// they come from $GH_USER_STORE (NTLM) and $KRB5_KTNAME (Kerberos).
#include "sspi_sample.h"

/* TCHAR to ASCII, for printing. */
static void
FromTString(const TCHAR *t, char *out, size_t cbOut)
{
    size_t i;
    for (i = 0; i + 1 < cbOut && t[i] != 0; i++)
        out[i] = (UINT)t[i] < 0x80 ? (char)t[i] : '?';
    out[i] = 0;
}

/* The account of a SID, LookupAccountSid's documented way: ask for the two
 * sizes (in TCHARs, terminators included), allocate, ask again. */
static void
PrintAccount(PSID pSid)
{
    DWORD cchName = 0, cchDomain = 0;
    SID_NAME_USE eUse;
    TCHAR *pszName = NULL, *pszDomain = NULL;
    char name[256], domain[256];

    if (!LookupAccountSid(NULL, pSid, NULL, &cchName, NULL, &cchDomain, &eUse) &&
        GetLastError() == ERROR_INSUFFICIENT_BUFFER) {
        pszName = (TCHAR *)malloc(cchName * sizeof(TCHAR));
        pszDomain = (TCHAR *)malloc(cchDomain * sizeof(TCHAR));
    }
    if (pszName != NULL && pszDomain != NULL &&
        LookupAccountSid(NULL, pSid, pszName, &cchName, pszDomain, &cchDomain, &eUse)) {
        FromTString(pszName, name, sizeof(name));
        FromTString(pszDomain, domain, sizeof(domain));
        printf("account: %s%s%s (type %d)\n", domain, domain[0] != 0 ? "\\" : "", name, (int)eUse);
    } else {
        printf("account: none (error %lu)\n", (ULONG)GetLastError());
    }
    free(pszName);
    free(pszDomain);
}

/* The token's user SID, as GetTokenInformation(TokenUser) gives it: ask for
 * the size, allocate, ask again; then its account. */
static void
PrintTokenUser(HANDLE hToken)
{
    DWORD cb = 0;
    PTOKEN_USER pUser = NULL;
    LPSTR pszSid = NULL;

    if (!GetTokenInformation(hToken, TokenUser, NULL, 0, &cb) &&
        GetLastError() == ERROR_INSUFFICIENT_BUFFER)
        pUser = (PTOKEN_USER)malloc(cb);
    if (pUser != NULL && GetTokenInformation(hToken, TokenUser, pUser, cb, &cb) &&
        ConvertSidToStringSidA(pUser->User.Sid, &pszSid)) {
        printf("user sid: %s\n", pszSid);
        LocalFree(pszSid);
        PrintAccount(pUser->User.Sid);
    } else {
        printf("user sid: none (error %lu)\n", (ULONG)GetLastError());
    }
    free(pUser);
}

int
main(int argc, char **argv)
{
    TCHAR *pszPackage;
    CredHandle hCred;
    CtxtHandle hCtxt;
    TimeStamp Lifetime;
    SECURITY_STATUS ss = SEC_E_INTERNAL_ERROR;
    SecBuffer InSecBuff, OutSecBuff, Buffers[2];
    SecBufferDesc InBuffDesc, OutBuffDesc, Message;
    SecPkgContext_Sizes Sizes;
    SecPkgContext_Names Names;
    HANDLE hToken = NULL;
    ULONG ContextAttributes = 0, fQOP = 0;
    DWORD cbIn, cbTrailer, cbData;
    BYTE *pIn = NULL, *pOut = NULL, *pTrailer = NULL;
    BOOL fDone = FALSE;
    SOCKET Listener = INVALID_SOCKET, Server = INVALID_SOCKET;
    struct sockaddr_in sin;
    socklen_t sinLen = sizeof(sin);
    char user[256], reply[300], received[256];
    int legs, rc = 1;

    if (argc != 2) {
        fprintf(stderr, "usage: %s PACKAGE\n", argv[0]);
        return 2;
    }
    SecInvalidateHandle(&hCred);
    SecInvalidateHandle(&hCtxt);
    pszPackage = ToTString(argv[1]);
    pIn = (BYTE *)malloc(MAX_MESSAGE);
    pOut = (BYTE *)malloc(MAX_MESSAGE);
    if (pszPackage == NULL || pIn == NULL || pOut == NULL)
        goto cleanup;

    ss = AcquireCredentialsHandle(NULL, pszPackage, SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL,
                                  &hCred, &Lifetime);
    if (!SEC_SUCCESS(ss)) {
        PrintFailure(stderr, "AcquireCredentialsHandle", ss);
        goto cleanup;
    }

    Listener = socket(AF_INET, SOCK_STREAM, 0);
    if (Listener == INVALID_SOCKET)
        goto cleanup;
    LoopbackAddress(&sin, 0);
    if (bind(Listener, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(Listener, 1) != 0 ||
        getsockname(Listener, (struct sockaddr *)&sin, &sinLen) != 0) {
        perror("listen");
        goto cleanup;
    }
    printf("port %u\n", (UINT)ntohs(sin.sin_port));
    fflush(stdout);
    Server = accept(Listener, NULL, NULL);
    if (Server == INVALID_SOCKET)
        goto cleanup;

    /* The handshake: each client token in, each of ours out, until SEC_E_OK. */
    for (legs = 0; legs < MAX_LEGS && !fDone; legs++) {
        if (!ReceiveMsg(Server, pIn, MAX_MESSAGE, &cbIn))
            goto cleanup;
        DescribeToken(&InBuffDesc, &InSecBuff, pIn, cbIn);
        DescribeToken(&OutBuffDesc, &OutSecBuff, pOut, MAX_MESSAGE);

        ss = AcceptSecurityContext(&hCred, SecIsValidHandle(&hCtxt) ? &hCtxt : NULL, &InBuffDesc,
                                   ASC_REQ_CONFIDENTIALITY | ASC_REQ_INTEGRITY | ASC_REQ_CONNECTION,
                                   SECURITY_NATIVE_DREP, &hCtxt, &OutBuffDesc, &ContextAttributes,
                                   &Lifetime);
        if (!SEC_SUCCESS(ss)) {
            const char *why = "no detail";
#ifdef SECPKG_ATTR_GH_EXTENDED_ERROR /* gatehouse's reason for a failed first call */
            SecPkgContext_GhExtendedError Why = {NULL};
            if (QueryContextAttributesA(NULL, SECPKG_ATTR_GH_EXTENDED_ERROR, &Why) == SEC_E_OK &&
                Why.Text != NULL)
                why = Why.Text;
#endif
            printf("AcceptSecurityContext failed: 0x%08lx (%s)\n", (ULONG)(UINT32)ss, why);
            goto cleanup;
        }
        if (ss == SEC_I_COMPLETE_NEEDED || ss == SEC_I_COMPLETE_AND_CONTINUE) {
            ss = CompleteAuthToken(&hCtxt, &OutBuffDesc);
            if (!SEC_SUCCESS(ss))
                goto cleanup;
        }
        if (OutSecBuff.cbBuffer != 0 && !SendMsg(Server, pOut, OutSecBuff.cbBuffer))
            goto cleanup;
        fDone = !(ss == SEC_I_CONTINUE_NEEDED || ss == SEC_I_COMPLETE_AND_CONTINUE);
    }
    if (!fDone)
        goto cleanup;

    /* Who is it? The name, then the access token, closed the Windows way. */
    ss = QueryContextAttributes(&hCtxt, SECPKG_ATTR_NAMES, &Names);
    if (!SEC_SUCCESS(ss))
        goto cleanup;
    FromTString(Names.sUserName, user, sizeof(user));
    FreeContextBuffer(Names.sUserName);
    printf("client: %s\n", user);
    ss = QuerySecurityContextToken(&hCtxt, &hToken);
    if (!SEC_SUCCESS(ss))
        goto cleanup;
    PrintTokenUser(hToken);
    if (!CloseHandle(hToken)) {
        printf("CloseHandle failed on the access token\n");
        goto cleanup;
    }
    printf("access token closed\n");

    /* Act as the client for a moment, as Microsoft's server sample does:
     * GetUserName names the impersonated account. A client without a local
     * account cannot be impersonated (SEC_E_NO_IMPERSONATION): say so. */
    ss = ImpersonateSecurityContext(&hCtxt);
    if (SEC_SUCCESS(ss)) {
        TCHAR szUser[UNLEN + 1];
        DWORD cchUser = UNLEN + 1;
        char who[UNLEN + 1] = "?";
        if (GetUserName(szUser, &cchUser))
            FromTString(szUser, who, sizeof(who));
        printf("impersonating: %s\n", who);
        RevertSecurityContext(&hCtxt);
    } else {
        printf("no impersonation: 0x%08lx\n", (ULONG)(UINT32)ss);
    }

    /* The client's encrypted message: its trailer, then the data. */
    if (!ReceiveMsg(Server, pOut, MAX_MESSAGE, &cbTrailer) ||
        !ReceiveMsg(Server, pIn, MAX_MESSAGE, &cbData))
        goto cleanup;
    DescribeMessage(&Message, Buffers, pOut, cbTrailer, pIn, cbData);
    ss = DecryptMessage(&hCtxt, &Message, 0, &fQOP);
    if (!SEC_SUCCESS(ss)) {
        PrintFailure(stdout, "DecryptMessage", ss);
        goto cleanup;
    }
    if (Buffers[1].cbBuffer >= sizeof(received))
        goto cleanup;
    memcpy(received, Buffers[1].pvBuffer, Buffers[1].cbBuffer);
    received[Buffers[1].cbBuffer] = 0;
    printf("client says: %s\n", received);

    /* The client's signed message: the data, then the signature. */
    if (!ReceiveMsg(Server, pIn, MAX_MESSAGE, &cbData) ||
        !ReceiveMsg(Server, pOut, MAX_MESSAGE, &cbTrailer))
        goto cleanup;
    DescribeMessage(&Message, Buffers, pOut, cbTrailer, pIn, cbData);
    ss = VerifySignature(&hCtxt, &Message, 0, &fQOP);
    if (ss != SEC_E_OK) {
        PrintFailure(stdout, "VerifySignature", ss);
        goto cleanup;
    }
    if (cbData >= sizeof(received))
        goto cleanup;
    memcpy(received, pIn, cbData);
    received[cbData] = 0;
    printf("signature verified: %s\n", received);

    /* Our answer, encrypted. */
    ss = QueryContextAttributes(&hCtxt, SECPKG_ATTR_SIZES, &Sizes);
    if (!SEC_SUCCESS(ss))
        goto cleanup;
    pTrailer = (BYTE *)malloc(Sizes.cbSecurityTrailer);
    if (pTrailer == NULL)
        goto cleanup;
    snprintf(reply, sizeof(reply), "hello, %s", user);
    DescribeMessage(&Message, Buffers, pTrailer, Sizes.cbSecurityTrailer, reply,
                    (ULONG)strlen(reply));
    ss = EncryptMessage(&hCtxt, 0, &Message, 0);
    if (!SEC_SUCCESS(ss) || !SendMsg(Server, pTrailer, Buffers[0].cbBuffer) ||
        !SendMsg(Server, (BYTE *)reply, Buffers[1].cbBuffer))
        goto cleanup;
    rc = 0;

cleanup:
    ReleaseHandles(&hCtxt, &hCred);
    if (Server != INVALID_SOCKET)
        closesocket(Server);
    if (Listener != INVALID_SOCKET)
        closesocket(Listener);
    free(pTrailer);
    free(pIn);
    free(pOut);
    free(pszPackage);
    return rc;
}
