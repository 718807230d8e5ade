// SPDX-License-Identifier: MIT
// A TLS client written against Windows' Schannel the way Microsoft documents
// it (the shape of its "web client" sample, written here from the
// documentation, not copied): AcquireCredentialsHandle(UNISP_NAME) with
// SCH_CREDENTIALS (or the older SCHANNEL_CRED), the InitializeSecurityContext
// loop with ISC_REQ_STREAM and SECBUFFER_EXTRA / SEC_E_INCOMPLETE_MESSAGE, the
// server certificate through SECPKG_ATTR_REMOTE_CERT_CONTEXT, an HTTP GET
// through EncryptMessage / DecryptMessage, and the shutdown (ApplyControlToken
// SCHANNEL_SHUTDOWN, then close_notify). Compiled unchanged as ANSI and as
// UNICODE against gatehouse's compat headers (docs/sspi.md, "Porting").
//
//   schannel_client [--ca DER] [--pfx FILE --password PW] [--target NAME]
//                   [--manual] [--legacy] [--tls12 | --tls13] [--alpn ID]
//                   [--path PATH] PORT
//
// Connects to 127.0.0.1:PORT; the target name (default "localhost") is what
// the server certificate must name. --ca: the trusted root, a DER file, put in
// a memory store (CertOpenStore, CertAddEncodedCertificateToStore) for
// hRootStore; --pfx: the client certificate and its key, a PKCS #12 file
// (PFXImportCertStore, CertFindCertificateInStore), offered when the server
// asks; --manual: ISC_REQ_MANUAL_CRED_VALIDATION; --legacy: SCHANNEL_CRED. Prints
// what it learns and the response; exit status 0 on success, 1 with
// "<function> failed: 0x<status>" otherwise.
#include "tls_sample.h"

/* SCH_CREDENTIALS (Windows 10 1809+) or, with fLegacy, SCHANNEL_CRED. */
static SECURITY_STATUS
CreateCredentials(BOOL fLegacy, HCERTSTORE hRoots, PCCERT_CONTEXT pCert, DWORD dwFlags,
                  DWORD dwDisabled, PCredHandle phCred)
{
    SCH_CREDENTIALS SchCred;
    SCHANNEL_CRED SchannelCred;
    TLS_PARAMETERS TlsParameters;
    TimeStamp tsExpiry;
    void *pAuthData;

    memset(&SchCred, 0, sizeof(SchCred));
    memset(&SchannelCred, 0, sizeof(SchannelCred));
    memset(&TlsParameters, 0, sizeof(TlsParameters));
    if (fLegacy) {
        SchannelCred.dwVersion = SCHANNEL_CRED_VERSION;
        SchannelCred.cCreds = pCert != NULL ? 1 : 0;
        SchannelCred.paCred = pCert != NULL ? &pCert : NULL;
        SchannelCred.hRootStore = hRoots;
        SchannelCred.grbitEnabledProtocols =
            (SP_PROT_TLS1_2_CLIENT | SP_PROT_TLS1_3_CLIENT) & ~dwDisabled;
        SchannelCred.dwFlags = dwFlags;
        pAuthData = &SchannelCred;
    } else {
        TlsParameters.grbitDisabledProtocols = dwDisabled;
        SchCred.dwVersion = SCH_CREDENTIALS_VERSION;
        SchCred.cCreds = pCert != NULL ? 1 : 0;
        SchCred.paCred = pCert != NULL ? &pCert : NULL;
        SchCred.hRootStore = hRoots;
        SchCred.dwFlags = dwFlags;
        SchCred.cTlsParameters = 1;
        SchCred.pTlsParameters = &TlsParameters;
        pAuthData = &SchCred;
    }
    return AcquireCredentialsHandle(NULL, UNISP_NAME, SECPKG_CRED_OUTBOUND, NULL, pAuthData, NULL,
                                    NULL, phCred, &tsExpiry);
}

/* The server certificate: Schannel verified it already (chain and name),
 * unless manual validation was asked for. */
static SECURITY_STATUS
ShowServerCertificate(PCtxtHandle phCtxt, BOOL fManual)
{
    PCCERT_CONTEXT pServerCert = NULL;
    SECURITY_STATUS ss =
        QueryContextAttributes(phCtxt, SECPKG_ATTR_REMOTE_CERT_CONTEXT, (PVOID)&pServerCert);
    if (ss != SEC_E_OK) {
        PrintFailure(stderr, "QueryContextAttributes(SECPKG_ATTR_REMOTE_CERT_CONTEXT)", ss);
        return ss;
    }
    PrintCertificate("server", pServerCert);
    if (fManual)
        printf("  (manual validation: the application judges this certificate)\n");
    CertFreeCertificateContext(pServerCert);
    return SEC_E_OK;
}

/* A SEC_APPLICATION_PROTOCOLS holding one ALPN list with one id. */
static BYTE *
AlpnBuffer(const char *pszId, ULONG *pcb)
{
    size_t cbId = strlen(pszId);
    size_t cbList = offsetof(SEC_APPLICATION_PROTOCOL_LIST, ProtocolList) + 1 + cbId;
    size_t cb = offsetof(SEC_APPLICATION_PROTOCOLS, ProtocolLists) + cbList;
    SEC_APPLICATION_PROTOCOLS *pProtocols;
    SEC_APPLICATION_PROTOCOL_LIST *pList;

    pProtocols = (SEC_APPLICATION_PROTOCOLS *)calloc(1, cb + sizeof(SEC_APPLICATION_PROTOCOLS));
    if (pProtocols == NULL || cbId == 0 || cbId > 255) {
        free(pProtocols);
        return NULL;
    }
    pProtocols->ProtocolListsSize = (ULONG)cbList;
    pList = &pProtocols->ProtocolLists[0];
    pList->ProtoNegoExt = SecApplicationProtocolNegotiationExt_ALPN;
    pList->ProtocolListSize = (USHORT)(1 + cbId);
    pList->ProtocolList[0] = (UCHAR)cbId;
    memcpy(&pList->ProtocolList[1], pszId, cbId);
    *pcb = (ULONG)cb;
    return (BYTE *)pProtocols;
}

int
main(int argc, char **argv)
{
    const char *pszCa = NULL, *pszPfx = NULL, *pszPassword = "", *pszTarget = "localhost";
    const char *pszPath = "/", *pszAlpn = NULL;
    BOOL fManual = FALSE, fLegacy = FALSE;
    DWORD dwDisabled = 0;
    HCERTSTORE hRoots = NULL, hPfx = NULL;
    PCCERT_CONTEXT pClientCert = NULL;
    CredHandle hCred, hCertCred;
    CtxtHandle hCtxt;
    TCHAR *pszTTarget = NULL;
    SECURITY_STATUS ss;
    SecPkgContext_StreamSizes Sizes;
    SecPkgContext_ApplicationProtocol Alpn;
    PSecPkgInfo pPackages = NULL;
    ULONG cPackages = 0, fContextAttr = 0, fContextReq, i;
    BYTE *pbIo = NULL, *pbData = NULL;
    DWORD cbIo = 0, cbData = 0;
    char szRequest[512];
    struct sockaddr_in sin;
    SOCKET s = INVALID_SOCKET;
    int arg, rc = 1, records;

    SecInvalidateHandle(&hCred);
    SecInvalidateHandle(&hCertCred);
    SecInvalidateHandle(&hCtxt);
    for (arg = 1; arg < argc - 1; arg++) {
        if (strcmp(argv[arg], "--ca") == 0 && arg + 1 < argc - 1)
            pszCa = argv[++arg];
        else if (strcmp(argv[arg], "--pfx") == 0 && arg + 1 < argc - 1)
            pszPfx = argv[++arg];
        else if (strcmp(argv[arg], "--password") == 0 && arg + 1 < argc - 1)
            pszPassword = argv[++arg];
        else if (strcmp(argv[arg], "--target") == 0 && arg + 1 < argc - 1)
            pszTarget = argv[++arg];
        else if (strcmp(argv[arg], "--path") == 0 && arg + 1 < argc - 1)
            pszPath = argv[++arg];
        else if (strcmp(argv[arg], "--alpn") == 0 && arg + 1 < argc - 1)
            pszAlpn = argv[++arg];
        else if (strcmp(argv[arg], "--manual") == 0)
            fManual = TRUE;
        else if (strcmp(argv[arg], "--legacy") == 0)
            fLegacy = TRUE;
        else if (strcmp(argv[arg], "--tls12") == 0)
            dwDisabled = SP_PROT_TLS1_3_CLIENT;
        else if (strcmp(argv[arg], "--tls13") == 0)
            dwDisabled = SP_PROT_TLS1_2_CLIENT;
        else
            break;
    }
    if (arg != argc - 1) {
        fprintf(stderr,
                "usage: %s [--ca DER] [--pfx FILE --password PW] [--target NAME] [--manual]\n"
                "       [--legacy] [--tls12|--tls13] [--alpn ID] [--path PATH] PORT\n",
                argv[0]);
        return 2;
    }

    /* Is Schannel there? */
    ss = EnumerateSecurityPackages(&cPackages, &pPackages);
    if (ss != SEC_E_OK) {
        PrintFailure(stderr, "EnumerateSecurityPackages", ss);
        goto cleanup;
    }
    for (i = 0; i < cPackages; i++) {
        if (pPackages[i].fCapabilities & SECPKG_FLAG_STREAM)
            PrintTString("stream package: ", pPackages[i].Name);
    }
    FreeContextBuffer(pPackages);

    pszTTarget = ToTString(pszTarget);
    pbIo = (BYTE *)malloc(IO_BUFFER_SIZE);
    pbData = (BYTE *)malloc(IO_BUFFER_SIZE);
    if (pszTTarget == NULL || pbIo == NULL || pbData == NULL)
        goto cleanup;
    if (pszCa != NULL && (hRoots = RootStoreFromFile(pszCa)) == NULL)
        goto cleanup;
    ss = CreateCredentials(fLegacy, hRoots, NULL,
                           SCH_CRED_NO_DEFAULT_CREDS | SCH_USE_STRONG_CRYPTO |
                               (fManual ? SCH_CRED_MANUAL_CRED_VALIDATION : 0),
                           dwDisabled, &hCred);
    if (ss != SEC_E_OK) {
        PrintFailure(stderr, "AcquireCredentialsHandle", ss);
        goto cleanup;
    }
    {
        SecPkgCred_SupportedProtocols Protocols;
        SecPkgCred_CipherStrengths Strengths;
        if (QueryCredentialsAttributes(&hCred, SECPKG_ATTR_SUPPORTED_PROTOCOLS, &Protocols) ==
                SEC_E_OK &&
            QueryCredentialsAttributes(&hCred, SECPKG_ATTR_CIPHER_STRENGTHS, &Strengths) ==
                SEC_E_OK)
            printf("credential: protocols 0x%lx, ciphers of %lu to %lu bits\n",
                   (ULONG)Protocols.grbitProtocol, (ULONG)Strengths.dwMinimumCipherStrength,
                   (ULONG)Strengths.dwMaximumCipherStrength);
    }
    /* A second credential with the client certificate, used only if the
     * server asks for one (SEC_I_INCOMPLETE_CREDENTIALS). */
    if (pszPfx != NULL) {
        pClientCert = CertificateFromPfx(pszPfx, pszPassword, &hPfx);
        if (pClientCert == NULL)
            goto cleanup;
        ss = CreateCredentials(fLegacy, hRoots, pClientCert,
                               SCH_CRED_NO_DEFAULT_CREDS |
                                   (fManual ? SCH_CRED_MANUAL_CRED_VALIDATION : 0),
                               dwDisabled, &hCertCred);
        if (ss != SEC_E_OK) {
            PrintFailure(stderr, "AcquireCredentialsHandle", ss);
            goto cleanup;
        }
    }

    s = socket(AF_INET, SOCK_STREAM, 0);
    if (s == INVALID_SOCKET)
        goto cleanup;
    LoopbackAddress(&sin, (USHORT)atoi(argv[argc - 1]));
    if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        perror("connect");
        goto cleanup;
    }

    fContextReq = ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY |
                  ISC_REQ_EXTENDED_ERROR | ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM |
                  (fManual ? ISC_REQ_MANUAL_CRED_VALIDATION : 0);
    if (pszAlpn != NULL) {
        /* ALPN goes in a SECBUFFER_APPLICATION_PROTOCOLS input of the first call. */
        SecBufferDesc InDesc, OutDesc;
        SecBuffer InBuffer, OutBuffer;
        TimeStamp tsExpiry;
        ULONG cbAlpn = 0;
        BYTE *pbAlpn = AlpnBuffer(pszAlpn, &cbAlpn);
        if (pbAlpn == NULL)
            goto cleanup;
        InBuffer.BufferType = SECBUFFER_APPLICATION_PROTOCOLS;
        InBuffer.pvBuffer = pbAlpn;
        InBuffer.cbBuffer = cbAlpn;
        InDesc.ulVersion = SECBUFFER_VERSION;
        InDesc.cBuffers = 1;
        InDesc.pBuffers = &InBuffer;
        OutBuffer.BufferType = SECBUFFER_TOKEN;
        OutBuffer.pvBuffer = NULL;
        OutBuffer.cbBuffer = 0;
        OutDesc.ulVersion = SECBUFFER_VERSION;
        OutDesc.cBuffers = 1;
        OutDesc.pBuffers = &OutBuffer;
        ss = InitializeSecurityContext(&hCred, NULL, pszTTarget, fContextReq, 0, 0, &InDesc, 0,
                                       &hCtxt, &OutDesc, &fContextAttr, &tsExpiry);
        free(pbAlpn);
        if (ss != SEC_I_CONTINUE_NEEDED || !SendToken(s, &OutBuffer)) {
            PrintFailure(stderr, "InitializeSecurityContext", ss);
            goto cleanup;
        }
        ss = ClientHandshake(s, &hCred, pszPfx != NULL ? &hCertCred : NULL, pszTTarget, fContextReq,
                             &hCtxt, FALSE, pbIo, &cbIo, &fContextAttr);
    } else {
        ss = ClientHandshake(s, &hCred, pszPfx != NULL ? &hCertCred : NULL, pszTTarget, fContextReq,
                             &hCtxt, TRUE, pbIo, &cbIo, &fContextAttr);
    }
    if (ss != SEC_E_OK) {
        PrintFailure(stderr, "InitializeSecurityContext", ss);
        goto cleanup;
    }
    printf("handshake complete, attributes 0x%08lx\n", (ULONG)fContextAttr);
    if (!(fContextAttr & ISC_RET_CONFIDENTIALITY) || !(fContextAttr & ISC_RET_STREAM)) {
        fprintf(stderr, "the context is not a confidential stream\n");
        goto cleanup;
    }
    if (ShowServerCertificate(&hCtxt, fManual) != SEC_E_OK)
        goto cleanup;
    PrintConnectionInfo(&hCtxt);
    ss = QueryContextAttributes(&hCtxt, SECPKG_ATTR_APPLICATION_PROTOCOL, &Alpn);
    if (ss == SEC_E_OK && Alpn.ProtoNegoStatus == SecApplicationProtocolNegotiationStatus_Success)
        printf("application protocol: %.*s\n", (int)Alpn.ProtocolIdSize,
               (const char *)Alpn.ProtocolId);
    else if (ss == SEC_E_OK)
        printf("application protocol: none\n");
    ss = QueryContextAttributes(&hCtxt, SECPKG_ATTR_STREAM_SIZES, &Sizes);
    if (ss != SEC_E_OK) {
        PrintFailure(stderr, "QueryContextAttributes(SECPKG_ATTR_STREAM_SIZES)", ss);
        goto cleanup;
    }
    printf("stream sizes: header %lu, trailer %lu, maximum message %lu\n", (ULONG)Sizes.cbHeader,
           (ULONG)Sizes.cbTrailer, (ULONG)Sizes.cbMaximumMessage);

    snprintf(szRequest, sizeof(szRequest),
             "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: schannel_client\r\n"
             "Connection: close\r\n\r\n",
             pszPath, pszTarget);
    ss = EncryptSend(s, &hCtxt, &Sizes, szRequest, (DWORD)strlen(szRequest));
    if (ss != SEC_E_OK) {
        PrintFailure(stderr, "EncryptMessage", ss);
        goto cleanup;
    }

    /* The response, record by record, until close_notify. */
    for (records = 0; records < 10000; records++) {
        ss = ReceiveDecrypt(s, &hCtxt, pbIo, &cbIo, pbData, IO_BUFFER_SIZE, &cbData);
        if (cbData > 0)
            fwrite(pbData, 1, cbData, stdout);
        if (ss == SEC_E_OK)
            continue;
        if (ss == SEC_I_CONTEXT_EXPIRED) {
            printf("\n[close_notify received]\n");
            break;
        }
        if (ss == SEC_I_RENEGOTIATE) {
            /* TLS 1.3 tickets and key updates: back to the handshake
             * function with what is left, as for a renegotiation. */
            printf("[SEC_I_RENEGOTIATE]\n");
            ss = ClientHandshake(s, &hCred, NULL, pszTTarget, fContextReq, &hCtxt, FALSE, pbIo,
                                 &cbIo, &fContextAttr);
            if (ss != SEC_E_OK) {
                PrintFailure(stderr, "InitializeSecurityContext (renegotiation)", ss);
                goto cleanup;
            }
            continue;
        }
        PrintFailure(stderr, "DecryptMessage", ss);
        goto cleanup;
    }

    ss = SendCloseNotify(s, &hCred, &hCtxt, FALSE, pszTTarget);
    if (ss != SEC_E_OK) {
        PrintFailure(stderr, "ApplyControlToken(SCHANNEL_SHUTDOWN)", ss);
        goto cleanup;
    }
    printf("[close_notify sent]\n");
    rc = 0;

cleanup:
    if (s != INVALID_SOCKET)
        closesocket(s);
    if (SecIsValidHandle(&hCertCred))
        FreeCredentialsHandle(&hCertCred);
    ReleaseHandles(&hCtxt, &hCred);
    if (pClientCert != NULL)
        CertFreeCertificateContext(pClientCert);
    if (hRoots != NULL)
        CertCloseStore(hRoots, 0);
    if (hPfx != NULL)
        CertCloseStore(hPfx, 0);
    free(pszTTarget);
    free(pbIo);
    free(pbData);
    return rc;
}
