package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"

	"kontor/internal/panel"
	"kontor/internal/store"
)

// CertRequest is one way of giving a user a certificate (USR-6): a pasted
// key pair, or company details for a self-signed certificate. Exactly one
// is set.
type CertRequest struct {
	Paste      *panel.CertInput
	SelfSigned *panel.CertSubject
}

// CertResult describes the stored certificate; Uncovered lists the user's
// domains it does not cover (a warning: at least one is covered).
type CertResult struct {
	Info      panel.CertInfo
	Uncovered []string
}

// SetCertificate checks and stores a certificate for a user of the actor.
// The user must have a domain on an exclusive address and the SSL service;
// both are checked before anything is parsed and again, with the row
// locked, when storing.
func (a *App) SetCertificate(ctx context.Context, actor panel.Actor, userID int64, req CertRequest) (CertResult, error) {
	u, err := a.Store.SSLUser(ctx, actor, userID)
	if err != nil {
		return CertResult{}, err
	}
	if !u.Service {
		return CertResult{}, panel.Forbidden(panel.SvcSSL.Field(), "err.ssl.service_off", u.Login)
	}
	now := a.Now()
	var in panel.CertInput
	switch {
	case req.Paste != nil && req.SelfSigned != nil:
		return CertResult{}, panel.Invalid("mode", "err.ssl.mode")
	case req.Paste != nil:
		in = *req.Paste
	case req.SelfSigned != nil:
		subj, err := req.SelfSigned.Clean()
		if err != nil {
			return CertResult{}, err
		}
		if in, err = selfSigned(subj, u.DomainNames(), now); err != nil {
			return CertResult{}, err
		}
	default:
		return CertResult{}, panel.Invalid("mode", "err.ssl.mode")
	}
	// A generated certificate takes the same path as a pasted one, so what
	// is stored is always what CheckCertificate accepted.
	b, uncovered, err := panel.CheckCertificate(in, now, u.DomainNames())
	if err != nil {
		return CertResult{}, err
	}
	c := store.Certificate{KeyPEM: b.KeyPEM, CertPEM: b.CertPEM, ChainPEM: b.ChainPEM, Info: b.Info}
	if err := a.Store.SetCertificate(ctx, actor, userID, c); err != nil {
		return CertResult{}, err
	}
	return CertResult{Info: b.Info, Uncovered: uncovered}, nil
}

// selfSignedValidity is how long a generated certificate lasts.
const selfSignedValidity = 1 // year

// selfSigned makes an ECDSA P-256 key and a certificate for the user's
// domains signed by it: the first domain is the common name, every domain
// and its www. name are subject alternative names. The start lies an hour
// back so that clients with a slow clock accept it at once.
func selfSigned(subj panel.CertSubject, domains []string, now time.Time) (panel.CertInput, error) {
	if len(domains) == 0 {
		return panel.CertInput{}, panel.Forbidden("", "err.ssl.no_domains")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return panel.CertInput{}, panel.Internal(fmt.Errorf("self-signed key: %w", err))
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return panel.CertInput{}, panel.Internal(fmt.Errorf("serial: %w", err))
	}
	seen := map[string]bool{}
	var names []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, d := range domains {
		add(d)
		if !strings.HasPrefix(d, "www.") {
			add("www." + d)
		}
	}
	name := pkix.Name{CommonName: domains[0]}
	for _, f := range []struct {
		v   string
		dst *[]string
	}{{subj.Company, &name.Organization}, {subj.Department, &name.OrganizationalUnit}, {subj.City, &name.Locality},
		{subj.State, &name.Province}, {subj.Country, &name.Country}} {
		if f.v != "" {
			*f.dst = []string{f.v}
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               name,
		NotBefore:             now.Add(-time.Hour).Truncate(time.Second),
		NotAfter:              now.AddDate(selfSignedValidity, 0, 0).Truncate(time.Second),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              names,
	}
	if subj.Email != "" {
		tmpl.EmailAddresses = []string{subj.Email}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return panel.CertInput{}, panel.Internal(fmt.Errorf("self-signed certificate: %w", err))
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return panel.CertInput{}, panel.Internal(fmt.Errorf("self-signed key: %w", err))
	}
	return panel.CertInput{
		Key:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})),
		Cert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
	}, nil
}

// DeleteCertificate removes a user's certificate.
func (a *App) DeleteCertificate(ctx context.Context, actor panel.Actor, userID int64) error {
	return a.Store.DeleteCertificate(ctx, actor, userID)
}
