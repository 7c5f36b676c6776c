package io.cleave.cli;

import io.cleave.core.security.Identity;
import io.cleave.core.security.Role;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A development certificate authority and the certificates of Cleave components, with
 * BouncyCastle's certificate builder (the JDK has no public API to issue certificates). Keys are
 * ECDSA P-256; each component's certificate names its role and name in a URI alternative name
 * ({@link Identity#uri}) and the hosts it may serve as, in DNS and IP alternative names. For
 * development and tests: a production deployment issues these from its own CA.
 */
final class DevCertificates {
    private static final Pattern IP = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*");
    private static final SecureRandom random = new SecureRandom();

    /** A certificate and its private key. */
    record Issued(X509Certificate certificate, PrivateKey key) {}

    private DevCertificates() {}

    /** A self-signed CA valid from {@code notBefore} to {@code notAfter}. */
    static Issued authority(String name, Instant notBefore, Instant notAfter) throws GeneralSecurityException {
        KeyPair keys = keyPair();
        X500Name subject = new X500Name("CN=" + name + ",O=Cleave");
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(notBefore), Date.from(notAfter),
                    subject, keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            return new Issued(sign(b, keys.getPrivate()), keys.getPrivate());
        } catch (IOException e) {
            throw new GeneralSecurityException("cannot build the CA certificate: " + e.getMessage(), e);
        }
    }

    /**
     * A component certificate signed by {@code ca}: role and name in a URI alternative name, each of
     * {@code hosts} as an IP (a literal address) or DNS (anything else) alternative name; usable
     * as server and as client (mutual TLS).
     */
    static Issued component(Issued ca, Role role, String name, List<String> hosts, Instant notBefore, Instant notAfter)
            throws GeneralSecurityException {
        KeyPair keys = keyPair();
        List<GeneralName> names = new ArrayList<>();
        names.add(new GeneralName(GeneralName.uniformResourceIdentifier, Identity.uri(role, name)));
        for (String h : hosts) {
            names.add(new GeneralName(IP.matcher(h).matches() ? GeneralName.iPAddress : GeneralName.dNSName, h));
        }
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca.certificate(), serial(), Date.from(notBefore),
                    Date.from(notAfter), new X500Name("CN=" + name + ",OU=" + role.label() + ",O=Cleave"), keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false,
                            new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(new GeneralName[0])))
                    .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca.certificate()))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            return new Issued(sign(b, ca.key()), keys.getPrivate());
        } catch (IOException e) {
            throw new GeneralSecurityException("cannot build the certificate of " + name + ": " + e.getMessage(), e);
        }
    }

    /** Writes {@code dir/file.crt} and {@code dir/file.key} (PKCS#8 PEM, readable by the owner only). */
    /**
     * A throw-away CA and a certificate for each of {@code roles} (named after the role, for
     * 127.0.0.1, valid for a day) in a new temporary folder, as a bench's --tls run needs them.
     */
    static Path temporary(List<Role> roles) throws IOException, GeneralSecurityException {
        Path dir = Files.createTempDirectory("cleave-bench-certs");
        Instant now = Instant.now();
        Issued ca = authority("bench CA", now.minusSeconds(300), now.plusSeconds(86_400));
        write(dir, "ca", ca);
        for (Role role : roles) {
            write(dir, role.label(), component(ca, role, role.label(), List.of("127.0.0.1"), now.minusSeconds(300), now.plusSeconds(86_400)));
        }
        return dir;
    }

    static void write(Path dir, String file, Issued issued) throws IOException, GeneralSecurityException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(file + ".crt"), pem("CERTIFICATE", issued.certificate().getEncoded()), StandardCharsets.US_ASCII);
        Path key = dir.resolve(file + ".key");
        Files.deleteIfExists(key);
        Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(key, pem("PRIVATE KEY", issued.key().getEncoded()), StandardCharsets.US_ASCII);
    }

    /** Reads what {@link #write} wrote. */
    static Issued read(Path dir, String file) throws IOException, GeneralSecurityException {
        X509Certificate cert;
        try (var in = Files.newInputStream(dir.resolve(file + ".crt"))) {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        String pem = Files.readString(dir.resolve(file + ".key"), StandardCharsets.US_ASCII);
        byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
        PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
        return new Issued(cert, key);
    }

    private static String pem(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), random);
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(127, random).add(BigInteger.ONE);
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey by) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(by)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("cannot sign: " + e.getMessage(), e);
        }
    }
}
