package attest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// PEM block types of keys.
const (
	pemPKCS8           = "PRIVATE KEY"
	pemSEC1            = "EC PRIVATE KEY"
	pemPKCS1           = "RSA PRIVATE KEY"
	pemSigstore        = "ENCRYPTED SIGSTORE PRIVATE KEY" // cosign generate-key-pair since v2
	pemCosign          = "ENCRYPTED COSIGN PRIVATE KEY"   // older cosign
	pemPublic          = "PUBLIC KEY"
	pemPKCS1Public     = "RSA PUBLIC KEY"
	wantKeys           = "ECDSA P-256 or Ed25519"
	wantPrivatePEMType = pemPKCS8 + ", " + pemSEC1 + " or " + pemSigstore
)

var (
	// ErrKey: a key could not be read or is of a kind not supported. The
	// error is a *KeyError.
	ErrKey = errors.New("unusable key")
	// ErrWrongPassword: an encrypted private key did not decrypt with the
	// password given. It also matches ErrKey.
	ErrWrongPassword = errors.New("wrong password")
)

// KeyError says in one line what was wrong with a key. It never holds key
// material or the password.
type KeyError struct {
	Msg           string
	wrongPassword bool
}

func (e *KeyError) Error() string { return e.Msg }

// Is makes errors.Is(err, ErrKey) true, and errors.Is(err, ErrWrongPassword)
// for a wrong password.
func (e *KeyError) Is(target error) bool {
	return target == ErrKey || (e.wrongPassword && target == ErrWrongPassword)
}

func keyErr(format string, args ...any) error {
	return &KeyError{Msg: fmt.Sprintf(format, args...)}
}

// Signer signs statements with a private key.
type Signer struct {
	sv     signature.SignerVerifier
	pub    crypto.PublicKey
	pubPEM []byte
}

// Verifier checks envelopes against a public key.
type Verifier struct {
	v   signature.Verifier
	pub crypto.PublicKey
}

// ParsePrivateKey reads an ECDSA P-256 or Ed25519 private key from PEM:
// PKCS #8 ("PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY") or cosign's encrypted
// form ("ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY"),
// which password decrypts (cosign allows an empty password). password is
// not used for the other forms. Errors are *KeyError.
func ParsePrivateKey(pemBytes []byte, password []byte) (*Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, keyErr("private key: no PEM block found")
	}
	if _, ok := block.Headers["Proc-Type"]; ok {
		return nil, keyErr("private key: legacy PEM encryption (Proc-Type header) is not supported; use cosign's encrypted format or PKCS #8")
	}
	var (
		priv any
		err  error
	)
	switch block.Type {
	case pemPKCS8:
		if priv, err = x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
			return nil, keyErr("private key: %s block is not valid PKCS #8 (or holds an unsupported key type)", block.Type)
		}
	case pemSEC1:
		if priv, err = x509.ParseECPrivateKey(block.Bytes); err != nil {
			return nil, keyErr("private key: %s block is not a valid SEC 1 key on a known curve", block.Type)
		}
	case pemSigstore, pemCosign:
		// As cosign: scrypt + secretbox (go-securesystemslib encrypted)
		// around PKCS #8.
		der, err := encrypted.Decrypt(block.Bytes, password)
		if err != nil {
			if err.Error() == "encrypted: decryption failed" {
				how := ""
				if len(password) == 0 {
					how = " (an empty password was given)"
				}
				return nil, &KeyError{Msg: fmt.Sprintf("private key: wrong password for %s%s", block.Type, how), wrongPassword: true}
			}
			return nil, keyErr("private key: %s block is malformed (not cosign's scrypt/secretbox format)", block.Type)
		}
		if priv, err = x509.ParsePKCS8PrivateKey(der); err != nil {
			return nil, keyErr("private key: %s block decrypted but holds no valid PKCS #8 key", block.Type)
		}
	case pemPKCS1:
		return nil, keyErr("private key: RSA keys are not supported (want %s)", wantKeys)
	default:
		return nil, keyErr("private key: PEM block is %q, want %s", clip(block.Type, 40), wantPrivatePEMType)
	}
	var pub crypto.PublicKey
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		if err := checkECDSA(&k.PublicKey); err != nil {
			return nil, keyErr("private key: %v", err)
		}
		pub = k.Public()
	case ed25519.PrivateKey:
		pub = k.Public()
	case *rsa.PrivateKey:
		return nil, keyErr("private key: RSA keys are not supported (want %s)", wantKeys)
	default:
		return nil, keyErr("private key: %s keys are not supported (want %s)", keyKind(priv), wantKeys)
	}
	// As cosign verifies with --key: ECDSA over SHA-256, pure Ed25519.
	sv, err := signature.LoadSignerVerifier(priv, crypto.SHA256)
	if err != nil {
		return nil, keyErr("private key: %v", err)
	}
	pubPEM, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	if err != nil {
		return nil, keyErr("private key: encoding its public key: %v", err)
	}
	return &Signer{sv: sv, pub: pub, pubPEM: pubPEM}, nil
}

// checkECDSA allows P-256 only and checks the point, as cosign does.
func checkECDSA(pub *ecdsa.PublicKey) error {
	if pub.Curve != elliptic.P256() {
		return fmt.Errorf("ECDSA curve %s is not supported (want P-256)", pub.Curve.Params().Name)
	}
	if err := cryptoutils.ValidatePubKey(pub); err != nil {
		return fmt.Errorf("invalid ECDSA P-256 key: %v", err)
	}
	return nil
}

func keyKind(k any) string {
	return fmt.Sprintf("%T", k)
}

// PublicKeyPEM is the signer's public key as PKIX "PUBLIC KEY" PEM, as
// cosign writes cosign.pub.
func (s *Signer) PublicKeyPEM() []byte {
	return append([]byte(nil), s.pubPEM...)
}

// Verifier checks envelopes against the signer's own public key.
func (s *Signer) Verifier() *Verifier {
	v, err := newVerifier(s.pub)
	if err != nil { // the key was checked when parsed
		panic(err)
	}
	return v
}

// ParsePublicKey reads an ECDSA P-256 or Ed25519 public key from PKIX
// "PUBLIC KEY" PEM (cosign.pub). Errors are *KeyError.
func ParsePublicKey(pemBytes []byte) (*Verifier, error) {
	block, _ := pem.Decode(pemBytes)
	switch {
	case block == nil:
		return nil, keyErr("public key: no PEM block found")
	case block.Type == pemPKCS1Public:
		return nil, keyErr("public key: RSA keys are not supported (want %s)", wantKeys)
	case block.Type != pemPublic:
		return nil, keyErr("public key: PEM block is %q, want %s", clip(block.Type, 40), pemPublic)
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
	if err != nil {
		return nil, keyErr("public key: %s block is not valid PKIX (or holds an unsupported key type)", block.Type)
	}
	v, err := newVerifier(pub)
	if err != nil {
		return nil, keyErr("public key: %v", err)
	}
	return v, nil
}

func newVerifier(pub crypto.PublicKey) (*Verifier, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if err := checkECDSA(k); err != nil {
			return nil, err
		}
	case ed25519.PublicKey:
	case *rsa.PublicKey:
		return nil, fmt.Errorf("RSA keys are not supported (want %s)", wantKeys)
	default:
		return nil, fmt.Errorf("%s keys are not supported (want %s)", keyKind(pub), wantKeys)
	}
	// What cosign verify-attestation --key loads: signature.LoadVerifier
	// with SHA-256 (pure Ed25519).
	v, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	return &Verifier{v: v, pub: pub}, nil
}

// PublicKeyPEM is the verifier's public key as PKIX "PUBLIC KEY" PEM.
func (v *Verifier) PublicKeyPEM() []byte {
	b, err := cryptoutils.MarshalPublicKeyToPEM(v.pub)
	if err != nil { // the key was checked when parsed
		panic(err)
	}
	return b
}
