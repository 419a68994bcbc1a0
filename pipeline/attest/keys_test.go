package attest

import (
	"bytes"
	"crypto/ecdh"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
)

func TestParsePrivateKey(t *testing.T) {
	t.Parallel()
	ec := newECDSA(t, elliptic.P256())
	ed := newEd25519(t)
	for _, tc := range []struct {
		name     string
		pem      []byte
		password string
		wantPub  []byte // nil: check against the key's own
	}{
		{name: "ecdsa pkcs8", pem: pkcs8PEM(t, ec)},
		{name: "ecdsa sec1", pem: sec1PEM(t, ec)},
		{name: "ed25519 pkcs8", pem: pkcs8PEM(t, ed)},
		{name: "pkcs8 ignores a password", pem: pkcs8PEM(t, ec), password: "unused"},
		{name: "cosign v2.6.1 generate-key-pair", pem: readTestdata(t, "cosign-v2.6.1/cosign.key"), password: cosignPassword, wantPub: readTestdata(t, "cosign-v2.6.1/cosign.pub")},
		{name: "encrypted sigstore ecdsa", pem: cosignEncryptedPEM(t, ec, "pw", pemSigstore), password: "pw"},
		{name: "encrypted cosign (older) ecdsa", pem: cosignEncryptedPEM(t, ec, "pw", pemCosign), password: "pw"},
		{name: "encrypted sigstore ed25519", pem: cosignEncryptedPEM(t, ed, "pw", pemSigstore), password: "pw"},
		{name: "encrypted with an empty password", pem: cosignEncryptedPEM(t, ec, "", pemSigstore), password: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := ParsePrivateKey(tc.pem, []byte(tc.password))
			if err != nil {
				t.Fatalf("ParsePrivateKey: %v", err)
			}
			pub := s.PublicKeyPEM()
			if tc.wantPub != nil && !bytes.Equal(pub, tc.wantPub) {
				t.Errorf("PublicKeyPEM = %s, want %s", pub, tc.wantPub)
			}
			if b, _ := pem.Decode(pub); b == nil || b.Type != "PUBLIC KEY" {
				t.Fatalf("PublicKeyPEM is not a PUBLIC KEY block: %s", pub)
			}
			v, err := ParsePublicKey(pub)
			if err != nil {
				t.Fatalf("ParsePublicKey(PublicKeyPEM): %v", err)
			}
			if !bytes.Equal(v.PublicKeyPEM(), pub) || !bytes.Equal(s.Verifier().PublicKeyPEM(), pub) {
				t.Errorf("public keys differ")
			}
		})
	}
}

// keyErrorCase is a key that must be refused with a message that contains
// want, is one line, and holds nothing secret.
type keyErrorCase struct {
	name     string
	pem      []byte
	password string
	want     string
	wrongPW  bool
}

func TestParsePrivateKeyErrors(t *testing.T) {
	t.Parallel()
	ec := newECDSA(t, elliptic.P256())
	p384 := newECDSA(t, elliptic.P384())
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	good := cosignEncryptedPEM(t, ec, "right horse battery", pemSigstore)
	corrupt := bytes.Replace(pkcs8PEM(t, ec), []byte("MIG"), []byte("AAA"), 1)
	legacy := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00"}, Bytes: []byte{1, 2, 3}})
	for _, tc := range []keyErrorCase{
		{name: "wrong password", pem: good, password: "wrong staple", want: "wrong password for ENCRYPTED SIGSTORE PRIVATE KEY", wrongPW: true},
		{name: "no password", pem: good, password: "", want: "wrong password for ENCRYPTED SIGSTORE PRIVATE KEY (an empty password was given)", wrongPW: true},
		{name: "wrong password, real cosign key", pem: readTestdata(t, "cosign-v2.6.1/cosign.key"), password: cosignPassword + "!", want: "wrong password", wrongPW: true},
		{name: "rsa pkcs1", pem: mustPEM(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), want: "RSA keys are not supported (want ECDSA P-256 or Ed25519)"},
		{name: "rsa pkcs8", pem: pkcs8PEM(t, rsaKey), want: "RSA keys are not supported"},
		{name: "rsa encrypted", pem: cosignEncryptedPEM(t, rsaKey, "pw", pemSigstore), password: "pw", want: "RSA keys are not supported"},
		{name: "p-384 pkcs8", pem: pkcs8PEM(t, p384), want: "ECDSA curve P-384 is not supported (want P-256)"},
		{name: "p-384 sec1", pem: sec1PEM(t, p384), want: "ECDSA curve P-384 is not supported"},
		{name: "p-384 encrypted", pem: cosignEncryptedPEM(t, p384, "pw", pemCosign), password: "pw", want: "ECDSA curve P-384 is not supported"},
		{name: "x25519", pem: pkcs8PEM(t, x25519), want: "*ecdh.PrivateKey keys are not supported"},
		{name: "garbage", pem: []byte("not a key at all"), want: "private key: no PEM block found"},
		{name: "empty", pem: nil, want: "no PEM block found"},
		{name: "public key given", pem: readTestdata(t, "cosign-v2.6.1/cosign.pub"), want: `PEM block is "PUBLIC KEY", want PRIVATE KEY, EC PRIVATE KEY or ENCRYPTED SIGSTORE PRIVATE KEY`},
		{name: "corrupt pkcs8", pem: corrupt, want: "PRIVATE KEY block is not valid PKCS #8"},
		{name: "corrupt sec1", pem: mustPEM(t, "EC PRIVATE KEY", []byte{0x30, 0x03, 0x02, 0x01, 0x01}), want: "EC PRIVATE KEY block is not a valid SEC 1 key"},
		{name: "corrupt encrypted", pem: mustPEM(t, pemSigstore, []byte(`{"kdf":{"name":"scrypt"}}`)), password: "pw", want: "ENCRYPTED SIGSTORE PRIVATE KEY block is malformed"},
		{name: "encrypted non-key", pem: func() []byte {
			enc, err := encryptedEncrypt([]byte("hello"), "pw")
			if err != nil {
				t.Fatal(err)
			}
			return mustPEM(t, pemSigstore, enc)
		}(), password: "pw", want: "decrypted but holds no valid PKCS #8 key"},
		{name: "legacy encrypted pem", pem: legacy, want: "legacy PEM encryption (Proc-Type header) is not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := ParsePrivateKey(tc.pem, []byte(tc.password))
			checkKeyError(t, tc, s != nil, err)
			if got := errors.Is(err, ErrWrongPassword); got != tc.wrongPW {
				t.Errorf("errors.Is(err, ErrWrongPassword) = %t, want %t", got, tc.wrongPW)
			}
		})
	}
}

func TestParsePublicKeyErrors(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkix := func(pub any) []byte {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return mustPEM(t, "PUBLIC KEY", der)
	}
	for _, tc := range []keyErrorCase{
		{name: "rsa pkix", pem: pkix(&rsaKey.PublicKey), want: "public key: RSA keys are not supported"},
		{name: "rsa pkcs1", pem: mustPEM(t, "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)), want: "RSA keys are not supported"},
		{name: "p-384", pem: pkix(&newECDSA(t, elliptic.P384()).PublicKey), want: "ECDSA curve P-384 is not supported (want P-256)"},
		{name: "p-521", pem: pkix(&newECDSA(t, elliptic.P521()).PublicKey), want: "ECDSA curve P-521 is not supported"},
		{name: "garbage", pem: []byte("-----BEGIN PUBLIC KEY-----\nnope\n"), want: "public key: no PEM block found"},
		{name: "private key given", pem: readTestdata(t, "cosign-v2.6.1/cosign.key"), want: `PEM block is "ENCRYPTED SIGSTORE PRIVATE KEY", want PUBLIC KEY`},
		{name: "corrupt", pem: mustPEM(t, "PUBLIC KEY", []byte{0x30, 0x00}), want: "PUBLIC KEY block is not valid PKIX"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := ParsePublicKey(tc.pem)
			checkKeyError(t, tc, v != nil, err)
		})
	}
}

func checkKeyError(t *testing.T, tc keyErrorCase, gotKey bool, err error) {
	t.Helper()
	if err == nil || gotKey {
		t.Fatalf("got a key and error %v, want an error containing %q", err, tc.want)
	}
	msg := err.Error()
	if !strings.Contains(msg, tc.want) {
		t.Errorf("error %q does not contain %q", msg, tc.want)
	}
	if !errors.Is(err, ErrKey) {
		t.Errorf("error %q is not ErrKey", msg)
	}
	if strings.ContainsAny(msg, "\n\r") {
		t.Errorf("error is not one line: %q", msg)
	}
	if tc.password != "" && strings.Contains(msg, tc.password) {
		t.Errorf("error %q contains the password", msg)
	}
	// No key material: no run of the PEM body, nor of its bytes in hex.
	if b, _ := pem.Decode(tc.pem); b != nil {
		for _, line := range strings.Split(string(pem.EncodeToMemory(&pem.Block{Type: "X", Bytes: b.Bytes})), "\n") {
			for i := 0; i+12 <= len(line) && !strings.HasPrefix(line, "-----"); i += 12 {
				if strings.Contains(msg, line[i:i+12]) {
					t.Errorf("error %q contains PEM body %q", msg, line[i:i+12])
				}
			}
		}
		h := hex.EncodeToString(b.Bytes)
		for i := 0; i+16 <= len(h); i += 16 {
			if strings.Contains(strings.ToLower(msg), h[i:i+16]) {
				t.Errorf("error %q contains key bytes", msg)
			}
		}
	}
}
