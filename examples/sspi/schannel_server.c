// SPDX-License-Identifier: MIT
// A TLS server written against Windows' Schannel the way Microsoft documents
// it (written here from the documentation, not copied): AcquireCredentialsHandle
// (UNISP_NAME, SECPKG_CRED_INBOUND) with the server certificate in
// SCHANNEL_CRED.paCred, the AcceptSecurityContext loop with ASC_REQ_STREAM
// (and ASC_REQ_MUTUAL_AUTH to ask for a client certificate), the client
// certificate through SECPKG_ATTR_REMOTE_CERT_CONTEXT, one request read with
// DecryptMessage and answered with EncryptMessage, then the shutdown.
// Compiled unchanged as ANSI and as UNICODE against gatehouse's compat headers.
//
//   schannel_server --pfx FILE [--password PW] [--ca DER] [--request-cert]
//                   [--require-cert] [--alpn ID] [--port N]
//
// The server certificate and its key come from a PKCS #12 file
// (PFXImportCertStore, CertFindCertificateInStore); --ca is the CA (DER)
// whose client certificates are asked for.
//
// Listens on 127.0.0.1 (port N, default any), prints "port <n>", serves one
// connection. An HTTP request ("GET ...") gets an HTTP/1.0 response naming
// the client certificate's subject; anything else is echoed back as
// "echo: ...". --require-cert: a client without a certificate gets 403 and
// the exit status is 1. Exit status 0 on success.
#include "tls_sample.h"

#define ACCEPT_FLAGS                                                             \
    (ASC_REQ_SEQUENCE_DETECT | ASC_REQ_REPLAY_DETECT | ASC_REQ_CONFIDENTIALITY | \
     ASC_REQ_EXTENDED_ERROR | ASC_REQ_ALLOCATE_MEMORY | ASC_REQ_STREAM)

/* The client certificate's subject into pszSubject ("" when there is none);
 * SEC_E_NO_CREDENTIALS when the client sent none. */
static SECURITY_STATUS
ClientCertificate(PCtxtHandle phCtxt, char *pszSubject, size_t cbSubject)
{
    PCCERT_CONTEXT pCert = NULL;
    TCHAR szName[512];
    size_t i;
    SECURITY_STATUS ss = QueryContextAttributes(phCtxt, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &pCert);

    pszSubject[0] = '\0';
    if (ss != SEC_E_OK)
        return ss;
    PrintCertificate("client", pCert);
    CertNameToStr(X509_ASN_ENCODING, &pCert->pCertInfo->Subject, CERT_X500_NAME_STR, szName,
                  sizeof(szName) / sizeof(szName[0]));
    for (i = 0; szName[i] != 0 && i + 1 < cbSubject; i++)
        pszSubject[i] = (char)((unsigned)szName[i] < 0x80 ? szName[i] : '?');
    pszSubject[i] = '\0';
    CertFreeCertificateContext(pCert);
    return SEC_E_OK;
}

int
main(int argc, char **argv)
{
    const char *pszPfx = NULL, *pszPassword = "", *pszCa = NULL, *pszAlpn = NULL;
    BOOL fRequest = FALSE, fRequire = FALSE;
    USHORT port = 0;
    PCCERT_CONTEXT pServerCert = NULL;
    HCERTSTORE hRoots = NULL, hPfx = NULL;
    SCHANNEL_CRED SchannelCred;
    CredHandle hCred;
    CtxtHandle hCtxt;
    TimeStamp tsExpiry;
    SECURITY_STATUS ss;
    SecPkgContext_StreamSizes Sizes;
    SecPkgContext_ApplicationProtocol Alpn;
    ULONG fContextAttr = 0;
    BYTE *pbIo = NULL, *pbData = NULL, *pbRequest = NULL;
    DWORD cbIo = 0, cbData = 0, cbRequest = 0;
    char szSubject[512], szAnswer[2048], szFirstLine[256];
    struct sockaddr_in sin;
    socklen_t cbSin = sizeof(sin);
    SOCKET listener = INVALID_SOCKET, s = INVALID_SOCKET;
    BYTE abAlpn[300];
    SecBuffer AlpnBuffer;
    int arg, rc = 1, records, one = 1;
    BOOL fForbidden = FALSE;

    SecInvalidateHandle(&hCred);
    SecInvalidateHandle(&hCtxt);
    for (arg = 1; arg < argc; arg++) {
        if (strcmp(argv[arg], "--pfx") == 0 && arg + 1 < argc)
            pszPfx = argv[++arg];
        else if (strcmp(argv[arg], "--password") == 0 && arg + 1 < argc)
            pszPassword = argv[++arg];
        else if (strcmp(argv[arg], "--ca") == 0 && arg + 1 < argc)
            pszCa = argv[++arg];
        else if (strcmp(argv[arg], "--alpn") == 0 && arg + 1 < argc)
            pszAlpn = argv[++arg];
        else if (strcmp(argv[arg], "--port") == 0 && arg + 1 < argc)
            port = (USHORT)atoi(argv[++arg]);
        else if (strcmp(argv[arg], "--request-cert") == 0)
            fRequest = TRUE;
        else if (strcmp(argv[arg], "--require-cert") == 0)
            fRequest = fRequire = TRUE;
        else
            break;
    }
    if (arg != argc || pszPfx == NULL) {
        fprintf(stderr,
                "usage: %s --pfx FILE [--password PW] [--ca DER] [--request-cert]\n"
                "       [--require-cert] [--alpn ID] [--port N]\n",
                argv[0]);
        return 2;
    }
    pbIo = (BYTE *)malloc(IO_BUFFER_SIZE);
    pbData = (BYTE *)malloc(IO_BUFFER_SIZE);
    pbRequest = (BYTE *)malloc(IO_BUFFER_SIZE);
    if (pbIo == NULL || pbData == NULL || pbRequest == NULL)
        goto cleanup;

    pServerCert = CertificateFromPfx(pszPfx, pszPassword, &hPfx);
    if (pServerCert == NULL)
        goto cleanup;
    if (pszCa != NULL && (hRoots = RootStoreFromFile(pszCa)) == NULL)
        goto cleanup;
    memset(&SchannelCred, 0, sizeof(SchannelCred));
    SchannelCred.dwVersion = SCHANNEL_CRED_VERSION;
    SchannelCred.cCreds = 1;
    SchannelCred.paCred = &pServerCert;
    SchannelCred.hRootStore = hRoots; /* the CAs a client certificate may come from */
    SchannelCred.grbitEnabledProtocols = SP_PROT_TLS1_2_SERVER | SP_PROT_TLS1_3_SERVER;
    SchannelCred.dwFlags = SCH_USE_STRONG_CRYPTO;
    ss = AcquireCredentialsHandle(NULL, UNISP_NAME, SECPKG_CRED_INBOUND, NULL, &SchannelCred, NULL,
                                  NULL, &hCred, &tsExpiry);
    if (ss != SEC_E_OK) {
        PrintFailure(stderr, "AcquireCredentialsHandle", ss);
        goto cleanup;
    }
    /* The credential holds its own references: ours can go now. */
    CertFreeCertificateContext(pServerCert);
    pServerCert = NULL;

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

    if (pszAlpn != NULL) {
        /* The application protocols this server speaks, in its preference order. */
        SEC_APPLICATION_PROTOCOLS *pProtocols = (SEC_APPLICATION_PROTOCOLS *)abAlpn;
        size_t cbId = strlen(pszAlpn);
        if (cbId == 0 || cbId > 255)
            goto cleanup;
        memset(abAlpn, 0, sizeof(abAlpn));
        pProtocols->ProtocolListsSize =
            (ULONG)(offsetof(SEC_APPLICATION_PROTOCOL_LIST, ProtocolList) + 1 + cbId);
        pProtocols->ProtocolLists[0].ProtoNegoExt = SecApplicationProtocolNegotiationExt_ALPN;
        pProtocols->ProtocolLists[0].ProtocolListSize = (USHORT)(1 + cbId);
        pProtocols->ProtocolLists[0].ProtocolList[0] = (UCHAR)cbId;
        memcpy(&pProtocols->ProtocolLists[0].ProtocolList[1], pszAlpn, cbId);
        AlpnBuffer.BufferType = SECBUFFER_APPLICATION_PROTOCOLS;
        AlpnBuffer.pvBuffer = abAlpn;
        AlpnBuffer.cbBuffer = (ULONG)(offsetof(SEC_APPLICATION_PROTOCOLS, ProtocolLists) +
                                      pProtocols->ProtocolListsSize);
    }
    ss = ServerHandshake(s, &hCred, ACCEPT_FLAGS | (fRequest ? ASC_REQ_MUTUAL_AUTH : 0), &hCtxt,
                         pszAlpn != NULL ? &AlpnBuffer : NULL, pbIo, &cbIo, &fContextAttr);
    if (ss != SEC_E_OK) {
        PrintFailure(stdout, "AcceptSecurityContext", ss);
        goto cleanup;
    }
    printf("handshake complete, attributes 0x%08lx\n", (ULONG)fContextAttr);
    PrintConnectionInfo(&hCtxt);
    ss = QueryContextAttributes(&hCtxt, SECPKG_ATTR_APPLICATION_PROTOCOL, &Alpn);
    if (ss == SEC_E_OK && Alpn.ProtoNegoStatus == SecApplicationProtocolNegotiationStatus_Success)
        printf("application protocol: %.*s\n", (int)Alpn.ProtocolIdSize,
               (const char *)Alpn.ProtocolId);
    ss = ClientCertificate(&hCtxt, szSubject, sizeof(szSubject));
    if (ss == SEC_E_NO_CREDENTIALS) {
        printf("no client certificate\n");
        fForbidden = fRequire;
    } else if (ss != SEC_E_OK) {
        PrintFailure(stdout, "QueryContextAttributes(SECPKG_ATTR_REMOTE_CERT_CONTEXT)", ss);
        goto cleanup;
    }
    ss = QueryContextAttributes(&hCtxt, SECPKG_ATTR_STREAM_SIZES, &Sizes);
    if (ss != SEC_E_OK) {
        PrintFailure(stdout, "QueryContextAttributes(SECPKG_ATTR_STREAM_SIZES)", ss);
        goto cleanup;
    }

    /* The request: records until an HTTP header block ends, or one record of
     * anything else. */
    for (records = 0; records < 1000; records++) {
        ss = ReceiveDecrypt(s, &hCtxt, pbIo, &cbIo, pbData, IO_BUFFER_SIZE, &cbData);
        if (ss == SEC_I_RENEGOTIATE) {
            ss = ServerHandshake(s, &hCred, ACCEPT_FLAGS, &hCtxt, NULL, pbIo, &cbIo, &fContextAttr);
            if (ss != SEC_E_OK)
                break;
            continue;
        }
        if (ss != SEC_E_OK)
            break;
        if (cbRequest + cbData >= IO_BUFFER_SIZE)
            break;
        memcpy(pbRequest + cbRequest, pbData, cbData);
        cbRequest += cbData;
        pbRequest[cbRequest] = 0;
        if (strncmp((const char *)pbRequest, "GET ", 4) != 0 ||
            strstr((const char *)pbRequest, "\r\n\r\n") != NULL)
            break;
    }
    if (ss != SEC_E_OK) {
        PrintFailure(stdout, "DecryptMessage", ss);
        goto cleanup;
    }
    if (strncmp((const char *)pbRequest, "GET ", 4) == 0) {
        size_t n = strcspn((const char *)pbRequest, "\r\n");
        snprintf(szFirstLine, sizeof(szFirstLine), "%.*s", (int)(n < 200 ? n : 200),
                 (const char *)pbRequest);
        printf("request: %s\n", szFirstLine);
        if (fForbidden)
            snprintf(szAnswer, sizeof(szAnswer),
                     "HTTP/1.0 403 Forbidden\r\nContent-Type: text/plain\r\n"
                     "Connection: close\r\n\r\na client certificate is required\n");
        else
            snprintf(szAnswer, sizeof(szAnswer),
                     "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
                     "hello, %s\nyou asked: %s\n",
                     szSubject[0] != '\0' ? szSubject : "anonymous", szFirstLine);
    } else {
        printf("client says: %.*s\n", (int)cbRequest, (const char *)pbRequest);
        snprintf(szAnswer, sizeof(szAnswer), "echo: %.*s",
                 (int)(cbRequest < 1024 ? cbRequest : 1024), (const char *)pbRequest);
    }
    ss = EncryptSend(s, &hCtxt, &Sizes, szAnswer, (DWORD)strlen(szAnswer));
    if (ss != SEC_E_OK) {
        PrintFailure(stdout, "EncryptMessage", ss);
        goto cleanup;
    }
    ss = SendCloseNotify(s, &hCred, &hCtxt, TRUE, NULL);
    if (ss != SEC_E_OK) {
        PrintFailure(stdout, "ApplyControlToken(SCHANNEL_SHUTDOWN)", ss);
        goto cleanup;
    }
    printf("[close_notify sent]\n");
    if (fForbidden) {
        printf("refused: a client certificate is required\n");
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
    if (hRoots != NULL)
        CertCloseStore(hRoots, 0);
    if (hPfx != NULL)
        CertCloseStore(hPfx, 0);
    free(pbIo);
    free(pbData);
    free(pbRequest);
    return rc;
}
