// SPDX-License-Identifier: MIT
// An SSPI client written the Windows way: Windows types, the unsuffixed SSPI
// names (A or W by UNICODE), <security.h>, SEC_SUCCESS and SecInvalidateHandle.
// It has the shape Microsoft's documentation gives its sockets client sample
// (written here from that description, not copied), and compiles unchanged
// against Windows' headers and against gatehouse's compat directory
// (docs/sspi.md, "Porting from Windows").
//
//   sspi_client PORT PACKAGE USER DOMAIN PASSWORD
//
// Connects to 127.0.0.1:PORT, authenticates with PACKAGE ("NTLM", "Negotiate",
// "Kerberos") as DOMAIN\USER, or with USER "-" as the current user (default
// credentials: on Windows the logon session, here the Kerberos ticket cache),
// sends one encrypted message and one signed message (MakeSignature),
// decrypts the server's encrypted answer and prints it. Messages on the socket are a 4-byte
// little-endian length followed by that many bytes. Exit status 0 on success.
#include "sspi_sample.h"

static SOCKET Client = INVALID_SOCKET;

/* One leg: pIn is NULL on the first call. */
static SECURITY_STATUS
GenClientContext(PCredHandle phCred, PCtxtHandle phCtxt, LPTSTR pszTarget, BYTE *pIn, DWORD cbIn,
                 BYTE *pOut, DWORD *pcbOut, BOOL *pfDone, ULONG *pContextAttributes)
{
    SECURITY_STATUS ss;
    TimeStamp Lifetime;
    SecBuffer OutSecBuff, InSecBuff;
    SecBufferDesc OutBuffDesc, InBuffDesc;

    DescribeToken(&OutBuffDesc, &OutSecBuff, pOut, *pcbOut);
    DescribeToken(&InBuffDesc, &InSecBuff, pIn, cbIn);

    ss = InitializeSecurityContext(phCred, SecIsValidHandle(phCtxt) ? phCtxt : NULL, pszTarget,
                                   ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY | ISC_REQ_CONNECTION,
                                   0, SECURITY_NATIVE_DREP, pIn != NULL ? &InBuffDesc : NULL, 0,
                                   phCtxt, &OutBuffDesc, pContextAttributes, &Lifetime);
    if (!SEC_SUCCESS(ss))
        return ss;
    if (ss == SEC_I_COMPLETE_NEEDED || ss == SEC_I_COMPLETE_AND_CONTINUE) {
        SECURITY_STATUS cs = CompleteAuthToken(phCtxt, &OutBuffDesc);
        if (!SEC_SUCCESS(cs))
            return cs;
    }
    *pcbOut = OutSecBuff.cbBuffer;
    *pfDone = !(ss == SEC_I_CONTINUE_NEEDED || ss == SEC_I_COMPLETE_AND_CONTINUE);
    return SEC_E_OK;
}

/* Encrypts pData in place; sends the security trailer, then the data. */
static BOOL
SendEncrypted(PCtxtHandle phCtxt, BYTE *pData, DWORD cbData, ULONG cbTrailer)
{
    SecBuffer Buffers[2];
    SecBufferDesc Message;
    BYTE *pTrailer = (BYTE *)malloc(cbTrailer);
    BOOL ok;

    if (pTrailer == NULL)
        return FALSE;
    DescribeMessage(&Message, Buffers, pTrailer, cbTrailer, pData, cbData);
    ok = SEC_SUCCESS(EncryptMessage(phCtxt, 0, &Message, 0)) &&
         SendMsg(Client, pTrailer, Buffers[0].cbBuffer) &&
         SendMsg(Client, pData, Buffers[1].cbBuffer);
    free(pTrailer);
    return ok;
}

int
main(int argc, char **argv)
{
    TCHAR *pszPackage = NULL, *pszUser = NULL, *pszDomain = NULL, *pszPassword = NULL;
    TCHAR *pszTarget = NULL;
    SEC_WINNT_AUTH_IDENTITY Identity;
    PSecPkgInfo pkgInfo = NULL;
    CredHandle hCred;
    CtxtHandle hCtxt;
    TimeStamp Lifetime;
    SecPkgContext_Sizes Sizes;
    SECURITY_STATUS ss;
    ULONG ContextAttributes = 0;
    DWORD cbMaxToken, cbIn = 0, cbOut, cbTrailer, cbData;
    BYTE *pIn = NULL, *pOut = NULL;
    BOOL fDone = FALSE;
    char hello[] = "hello from the client";
    struct sockaddr_in sin;
    int legs, rc = 1;

    if (argc != 6) {
        fprintf(stderr, "usage: %s PORT PACKAGE USER DOMAIN PASSWORD\n", argv[0]);
        return 2;
    }
    pszPackage = ToTString(argv[2]);
    pszUser = ToTString(argv[3]);
    pszDomain = ToTString(argv[4]);
    pszPassword = ToTString(argv[5]);
    pszTarget = ToTString("HTTP/localhost");
    SecInvalidateHandle(&hCred);
    SecInvalidateHandle(&hCtxt);
    if (pszPackage == NULL || pszUser == NULL || pszDomain == NULL || pszPassword == NULL ||
        pszTarget == NULL)
        goto cleanup;

    ss = QuerySecurityPackageInfo(pszPackage, &pkgInfo);
    if (!SEC_SUCCESS(ss)) {
        PrintFailure(stderr, "QuerySecurityPackageInfo", ss);
        goto cleanup;
    }
    cbMaxToken = pkgInfo->cbMaxToken;
    FreeContextBuffer(pkgInfo);
    if (cbMaxToken > MAX_MESSAGE)
        cbMaxToken = MAX_MESSAGE;
    pIn = (BYTE *)malloc(MAX_MESSAGE);
    pOut = (BYTE *)malloc(cbMaxToken);
    if (pIn == NULL || pOut == NULL)
        goto cleanup;

    /* Explicit credentials, in the character set the program was built for. */
    memset(&Identity, 0, sizeof(Identity));
#ifdef UNICODE
    Identity.User = (USHORT *)pszUser;
    Identity.Domain = (USHORT *)pszDomain;
    Identity.Password = (USHORT *)pszPassword;
    Identity.Flags = SEC_WINNT_AUTH_IDENTITY_UNICODE;
#else
    Identity.User = (UCHAR *)pszUser;
    Identity.Domain = (UCHAR *)pszDomain;
    Identity.Password = (UCHAR *)pszPassword;
    Identity.Flags = SEC_WINNT_AUTH_IDENTITY_ANSI;
#endif
    Identity.UserLength = (ULONG)strlen(argv[3]);
    Identity.DomainLength = (ULONG)strlen(argv[4]);
    Identity.PasswordLength = (ULONG)strlen(argv[5]);
    ss = AcquireCredentialsHandle(NULL, pszPackage, SECPKG_CRED_OUTBOUND, NULL,
                                  strcmp(argv[3], "-") == 0 ? NULL : &Identity, NULL, NULL, &hCred,
                                  &Lifetime);
    if (!SEC_SUCCESS(ss)) {
        PrintFailure(stderr, "AcquireCredentialsHandle", ss);
        goto cleanup;
    }

    Client = socket(AF_INET, SOCK_STREAM, 0);
    if (Client == INVALID_SOCKET)
        goto cleanup;
    LoopbackAddress(&sin, (USHORT)atoi(argv[1]));
    if (connect(Client, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        perror("connect");
        goto cleanup;
    }

    /* The handshake: send each token, read the answer, until the package is done. */
    for (legs = 0; legs < MAX_LEGS && !fDone; legs++) {
        cbOut = cbMaxToken;
        ss = GenClientContext(&hCred, &hCtxt, pszTarget, legs == 0 ? NULL : pIn, cbIn, pOut, &cbOut,
                              &fDone, &ContextAttributes);
        if (!SEC_SUCCESS(ss)) {
            PrintFailure(stderr, "InitializeSecurityContext", ss);
            goto cleanup;
        }
        if (cbOut != 0 && !SendMsg(Client, pOut, cbOut))
            goto cleanup;
        if (!fDone && !ReceiveMsg(Client, pIn, MAX_MESSAGE, &cbIn))
            goto cleanup;
    }
    if (!fDone || !(ContextAttributes & ISC_RET_CONFIDENTIALITY)) {
        fprintf(stderr, "no confidential context (attributes 0x%lx)\n", ContextAttributes);
        goto cleanup;
    }
    printf("authenticated after %d legs, attributes 0x%08lx\n", legs, ContextAttributes);

    ss = QueryContextAttributes(&hCtxt, SECPKG_ATTR_SIZES, &Sizes);
    if (!SEC_SUCCESS(ss))
        goto cleanup;
    if (!SendEncrypted(&hCtxt, (BYTE *)hello, (DWORD)strlen(hello), Sizes.cbSecurityTrailer))
        goto cleanup;

    /* A signed message: the data in clear, then its signature (MakeSignature). */
    {
        SecBuffer Buffers[2];
        SecBufferDesc Message;
        char signedText[] = "signed by the client";
        BYTE *pSignature = (BYTE *)malloc(Sizes.cbMaxSignature);
        if (pSignature == NULL)
            goto cleanup;
        DescribeMessage(&Message, Buffers, pSignature, Sizes.cbMaxSignature, signedText,
                        (ULONG)strlen(signedText));
        ss = MakeSignature(&hCtxt, 0, &Message, 0);
        if (ss != SEC_E_OK) {
            PrintFailure(stderr, "MakeSignature", ss);
            free(pSignature);
            goto cleanup;
        }
        if (!SendMsg(Client, (BYTE *)signedText, Buffers[1].cbBuffer) ||
            !SendMsg(Client, pSignature, Buffers[0].cbBuffer)) {
            free(pSignature);
            goto cleanup;
        }
        free(pSignature);
    }

    /* The server's answer: its trailer, then the data. */
    {
        SecBuffer Buffers[2];
        SecBufferDesc Message;
        ULONG fQOP = 0;
        if (!ReceiveMsg(Client, pOut, cbMaxToken, &cbTrailer) ||
            !ReceiveMsg(Client, pIn, MAX_MESSAGE - 1, &cbData))
            goto cleanup;
        DescribeMessage(&Message, Buffers, pOut, cbTrailer, pIn, cbData);
        ss = DecryptMessage(&hCtxt, &Message, 0, &fQOP);
        if (!SEC_SUCCESS(ss)) {
            PrintFailure(stderr, "DecryptMessage", ss);
            goto cleanup;
        }
        pIn[Buffers[1].cbBuffer] = 0;
        printf("server says: %s\n", (char *)Buffers[1].pvBuffer);
    }
    rc = 0;

cleanup:
    ReleaseHandles(&hCtxt, &hCred);
    if (Client != INVALID_SOCKET)
        closesocket(Client);
    free(pIn);
    free(pOut);
    free(pszPackage);
    free(pszUser);
    free(pszDomain);
    free(pszPassword);
    free(pszTarget);
    return rc;
}
