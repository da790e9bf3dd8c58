import NIOSSL

/// TLS settings for MLLP, read from PEM files.
public enum MLLPTLS {
    /// A listener's TLS: its certificate chain and private key; with `clientCA`, clients must present a
    /// certificate signed by it (mutual TLS, as many HIEs require).
    public static func server(certificate: String, privateKey: String, clientCA: String? = nil) throws -> NIOSSLContext
    {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: privateKey, format: .pem)))
        configuration.minimumTLSVersion = .tlsv12
        if let clientCA {
            configuration.trustRoots = .file(clientCA)
            configuration.certificateVerification = .noHostnameVerification
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// A sender's TLS: the CA that signed the listener's certificate (the system's roots when `nil`),
    /// and optionally the sender's own certificate and key for mutual TLS.
    public static func client(
        trustedCA: String? = nil, certificate: String? = nil, privateKey: String? = nil
    ) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let trustedCA { configuration.trustRoots = .file(trustedCA) }
        if let certificate, let privateKey {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: privateKey, format: .pem))
        }
        return try NIOSSLContext(configuration: configuration)
    }
}
