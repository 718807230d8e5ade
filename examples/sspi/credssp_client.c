// SPDX-License-Identifier: MIT
// A CredSSP client written the way Microsoft documents InitializeSecurityContext
// (CredSSP) (written here from the documentation, not copied): the "CREDSSP"
// package, a CREDSSP_CRED holding a SCHANNEL_CRED for the TLS part and a
// SEC_WINNT_AUTH_IDENTITY(_EX) for the SPNEGO part, the token loop (tokens are
// TLS records, sent raw as RDP does), ISC_REQ_DELEGATE to hand the password to
// the server, then the context's attributes and one message each way through
// the TLS channel. Compiled unchanged as ANSI and as UNICODE.
//
//   credssp_client [--ca DER] [--target SPN] [--ex] [--no-delegate]
//                  [--manual] PORT USER DOMAIN PASSWORD
//
// Connects to 127.0.0.1:PORT; the target (default TERMSRV/localhost) is the
// SPN: its host part must match the server certificate, issued by the CA of
// --ca (a DER file, put in hRootStore). --ex: the identity as
// SEC_WINNT_AUTH_IDENTITY_EX. Exit status 0 on success, 1 with
// "<function> failed: 0x<status>" otherwise.
#include "tls_sample.h"

static void
FillIdentity(SEC_WINNT_AUTH_IDENTITY *pId, SEC_WINNT_AUTH_IDENTITY_EX *pIdEx, TCHAR *pszUser,
             TCHAR *pszDomain, TCHAR *pszPassword, const char *user, const char *domain,
             const char *password)
{
    memset(pId, 0, sizeof(*pId));
    memset(pIdEx, 0, sizeof(*pIdEx));
#ifdef UNICODE
    pId->User = (USHORT *)pszUser;
    pId->Domain = (USHORT *)pszDomain;
    pId->Password = (USHORT *)pszPassword;
    pId->Flags = SEC_WINNT_AUTH_IDENTITY_UNICODE;
#else
    pId->User = (UCHAR *)pszUser;
    pId->Domain = (UCHAR *)pszDomain;
    pId->Password = (UCHAR *)pszPassword;
    pId->Flags = SEC_WINNT_AUTH_IDENTITY_ANSI;
#endif
    pId->UserLength = (ULONG)strlen(user);
    pId->DomainLength = (ULONG)strlen(domain);
    pId->PasswordLength = (ULONG)strlen(password);
    pIdEx->Version = SEC_WINNT_AUTH_IDENTITY_VERSION;
    pIdEx->Length = sizeof(*pIdEx);
    pIdEx->User = pId->User;
    pIdEx->UserLength = pId->UserLength;
    pIdEx->Domain = pId->Domain;
    pIdEx->DomainLength = pId->DomainLength;
    pIdEx->Password = pId->Password;
    pIdEx->PasswordLength = pId->PasswordLength;
    pIdEx->Flags = pId->Flags;
}

/* What the package tells about the context: the Windows attributes that
 * CredSSP answers from its inner (SPNEGO) context or its TLS channel. */
static void
ShowAttributes(PCtxtHandle phCtxt)
{
    SecPkgContext_Names Names;
    SecPkgContext_Sizes Sizes;
    SecPkgContext_PackageInfo PkgInfo;
    SecPkgContext_NativeNames NativeNames;
    SecPkgContext_SessionKey SessionKey;
    PCCERT_CONTEXT pServerCert = NULL;
    SECURITY_STATUS ss;

    ss = QueryContextAttributes(phCtxt, SECPKG_ATTR_NAMES, &Names);
    if (ss == SEC_E_OK) {
        PrintTString("authenticated as: ", Names.sUserName);
        FreeContextBuffer(Names.sUserName);
    } else {
        PrintFailure(stdout, "QueryContextAttributes(SECPKG_ATTR_NAMES)", ss);
    }
    ss = QueryContextAttributes(phCtxt, SECPKG_ATTR_PACKAGE_INFO, &PkgInfo);
    if (ss == SEC_E_OK) {
        PrintTString("inner package: ", PkgInfo.PackageInfo->Name);
        FreeContextBuffer(PkgInfo.PackageInfo);
    }
    ss = QueryContextAttributes(phCtxt, SECPKG_ATTR_SIZES, &Sizes);
    if (ss == SEC_E_OK)
        printf("sizes: max token %lu, max signature %lu, trailer %lu\n", (ULONG)Sizes.cbMaxToken,
               (ULONG)Sizes.cbMaxSignature, (ULONG)Sizes.cbSecurityTrailer);
    ss = QueryContextAttributes(phCtxt, SECPKG_ATTR_NATIVE_NAMES, &NativeNames);
    if (ss == SEC_E_OK) {
        if (NativeNames.sServerName != NULL)
            PrintTString("server name: ", NativeNames.sServerName);
        FreeContextBuffer(NativeNames.sClientName);
        FreeContextBuffer(NativeNames.sServerName);
    } else {
        PrintFailure(stdout, "QueryContextAttributes(SECPKG_ATTR_NATIVE_NAMES)", ss);
    }
    ss = QueryContextAttributes(phCtxt, SECPKG_ATTR_SESSION_KEY, &SessionKey);
    if (ss == SEC_E_OK) {
        printf("session key: %lu bytes\n", (ULONG)SessionKey.SessionKeyLength);
        FreeContextBuffer(SessionKey.SessionKey);
    } else {
        PrintFailure(stdout, "QueryContextAttributes(SECPKG_ATTR_SESSION_KEY)", ss);
    }
    ss = QueryContextAttributes(phCtxt, SECPKG_ATTR_REMOTE_CERT_CONTEXT, (PVOID)&pServerCert);
    if (ss == SEC_E_OK) {
        PrintCertificate("server", pServerCert);
        CertFreeCertificateContext(pServerCert);
    }
    PrintConnectionInfo(phCtxt);
}

int
main(int argc, char **argv)
{
    const char *pszCa = NULL, *pszTarget = "TERMSRV/localhost";
    BOOL fEx = FALSE, fDelegate = TRUE, fManual = FALSE;
    TCHAR *pszUser = NULL, *pszDomain = NULL, *pszPassword = NULL, *pszTTarget = NULL;
    SEC_WINNT_AUTH_IDENTITY Identity;
    SEC_WINNT_AUTH_IDENTITY_EX IdentityEx;
    SCHANNEL_CRED SchannelCred;
    CREDSSP_CRED CredSspCred;
    HCERTSTORE hRoots = NULL;
    CredHandle hCred;
    CtxtHandle hCtxt;
    TimeStamp tsExpiry;
    SECURITY_STATUS ss;
    PSecPkgInfo pPkgInfo = NULL, pPackages = NULL;
    SecPkgCredentials_Names CredNames;
    SecPkgContext_StreamSizes Sizes;
    ULONG cPackages = 0, fContextAttr = 0, fContextReq, i;
    BYTE *pbIo = NULL, *pbData = NULL;
    DWORD cbIo = 0, cbData = 0;
    const char szHello[] = "hello from the credssp client";
    struct sockaddr_in sin;
    SOCKET s = INVALID_SOCKET;
    BOOL fFound = FALSE;
    int arg, rc = 1;

    SecInvalidateHandle(&hCred);
    SecInvalidateHandle(&hCtxt);
    for (arg = 1; arg < argc - 4; arg++) {
        if (strcmp(argv[arg], "--ca") == 0 && arg + 1 < argc - 4)
            pszCa = argv[++arg];
        else if (strcmp(argv[arg], "--target") == 0 && arg + 1 < argc - 4)
            pszTarget = argv[++arg];
        else if (strcmp(argv[arg], "--ex") == 0)
            fEx = TRUE;
        else if (strcmp(argv[arg], "--no-delegate") == 0)
            fDelegate = FALSE;
        else if (strcmp(argv[arg], "--manual") == 0)
            fManual = TRUE;
        else
            break;
    }
    if (argc < 5 || arg != argc - 4) {
        fprintf(stderr,
                "usage: %s [--ca DER] [--target SPN] [--ex] [--no-delegate] [--manual]\n"
                "       PORT USER DOMAIN PASSWORD\n",
                argv[0]);
        return 2;
    }

    ss = EnumerateSecurityPackages(&cPackages, &pPackages);
    if (ss != SEC_E_OK) {
        PrintFailure(stderr, "EnumerateSecurityPackages", ss);
        goto cleanup;
    }
    for (i = 0; i < cPackages; i++) {
        const TCHAR *p = pPackages[i].Name, *q = CREDSSP_NAME;
        while (*p != 0 && *p == *q) {
            p++;
            q++;
        }
        fFound |= *p == 0 && *q == 0;
    }
    FreeContextBuffer(pPackages);
    if (!fFound) {
        fprintf(stderr, "no CREDSSP package\n");
        goto cleanup;
    }
    ss = QuerySecurityPackageInfo(CREDSSP_NAME, &pPkgInfo);
    if (ss != SEC_E_OK) {
        PrintFailure(stderr, "QuerySecurityPackageInfo", ss);
        goto cleanup;
    }
    printf("package: capabilities 0x%08lx, max token %lu\n", (ULONG)pPkgInfo->fCapabilities,
           (ULONG)pPkgInfo->cbMaxToken);
    FreeContextBuffer(pPkgInfo);

    pszUser = ToTString(argv[argc - 3]);
    pszDomain = ToTString(argv[argc - 2]);
    pszPassword = ToTString(argv[argc - 1]);
    pszTTarget = ToTString(pszTarget);
    pbIo = (BYTE *)malloc(IO_BUFFER_SIZE);
    pbData = (BYTE *)malloc(IO_BUFFER_SIZE);
    if (pszUser == NULL || pszDomain == NULL || pszPassword == NULL || pszTTarget == NULL ||
        pbIo == NULL || pbData == NULL)
        goto cleanup;
    FillIdentity(&Identity, &IdentityEx, pszUser, pszDomain, pszPassword, argv[argc - 3],
                 argv[argc - 2], argv[argc - 1]);

    if (pszCa != NULL && (hRoots = RootStoreFromFile(pszCa)) == NULL)
        goto cleanup;
    memset(&SchannelCred, 0, sizeof(SchannelCred));
    SchannelCred.dwVersion = SCHANNEL_CRED_VERSION;
    SchannelCred.hRootStore = hRoots;
    SchannelCred.dwFlags = SCH_CRED_NO_DEFAULT_CREDS;
    memset(&CredSspCred, 0, sizeof(CredSspCred));
    CredSspCred.Type = CredsspSubmitBufferBoth;
    CredSspCred.pSchannelCred = &SchannelCred;
    CredSspCred.pSpnegoCred = fEx ? (void *)&IdentityEx : (void *)&Identity;
    ss = AcquireCredentialsHandle(NULL, CREDSSP_NAME, SECPKG_CRED_OUTBOUND, NULL, &CredSspCred,
                                  NULL, NULL, &hCred, &tsExpiry);
    if (ss != SEC_E_OK) {
        PrintFailure(stderr, "AcquireCredentialsHandle", ss);
        goto cleanup;
    }
    ss = QueryCredentialsAttributes(&hCred, SECPKG_CRED_ATTR_NAMES, &CredNames);
    if (ss == SEC_E_OK) {
        PrintTString("credential: ", CredNames.sUserName);
        FreeContextBuffer(CredNames.sUserName);
    } else {
        PrintFailure(stdout, "QueryCredentialsAttributes(SECPKG_CRED_ATTR_NAMES)", ss);
    }

    s = socket(AF_INET, SOCK_STREAM, 0);
    if (s == INVALID_SOCKET)
        goto cleanup;
    LoopbackAddress(&sin, (USHORT)atoi(argv[argc - 4]));
    if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        perror("connect");
        goto cleanup;
    }
    fContextReq = ISC_REQ_MUTUAL_AUTH | ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_EXTENDED_ERROR |
                  ISC_REQ_STREAM | ISC_REQ_CONFIDENTIALITY | ISC_REQ_SEQUENCE_DETECT |
                  ISC_REQ_REPLAY_DETECT | (fDelegate ? ISC_REQ_DELEGATE : 0) |
                  (fManual ? ISC_REQ_MANUAL_CRED_VALIDATION : 0);
    ss = ClientHandshake(s, &hCred, NULL, pszTTarget, fContextReq, &hCtxt, TRUE, pbIo, &cbIo,
                         &fContextAttr);
    if (ss != SEC_E_OK) {
        PrintFailure(stderr, "InitializeSecurityContext", ss);
        goto cleanup;
    }
    printf("context complete, attributes 0x%08lx%s\n", (ULONG)fContextAttr,
           (fContextAttr & ISC_RET_DELEGATE) ? " (credentials delegated)" : "");
    ShowAttributes(&hCtxt);

    ss = QueryContextAttributes(&hCtxt, SECPKG_ATTR_STREAM_SIZES, &Sizes);
    if (ss != SEC_E_OK) {
        PrintFailure(stderr, "QueryContextAttributes(SECPKG_ATTR_STREAM_SIZES)", ss);
        goto cleanup;
    }
    ss = EncryptSend(s, &hCtxt, &Sizes, szHello, (DWORD)strlen(szHello));
    if (ss != SEC_E_OK) {
        PrintFailure(stderr, "EncryptMessage", ss);
        goto cleanup;
    }
    ss = ReceiveDecrypt(s, &hCtxt, pbIo, &cbIo, pbData, IO_BUFFER_SIZE - 1, &cbData);
    if (ss != SEC_E_OK) {
        PrintFailure(stderr, "DecryptMessage", ss);
        goto cleanup;
    }
    pbData[cbData] = 0;
    printf("server says: %s\n", (const char *)pbData);
    rc = 0;

cleanup:
    if (s != INVALID_SOCKET)
        closesocket(s);
    ReleaseHandles(&hCtxt, &hCred);
    if (hRoots != NULL)
        CertCloseStore(hRoots, 0);
    free(pszUser);
    free(pszDomain);
    if (pszPassword != NULL) {
        memset(pszPassword, 0, strlen(argv[argc - 1]) * sizeof(TCHAR));
        free(pszPassword);
    }
    free(pszTTarget);
    free(pbIo);
    free(pbData);
    return rc;
}
