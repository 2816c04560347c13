package awsproto

import (
	"context"
	"crypto/subtle"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/hoist-dev/hoist/internal/gamelift"
)

// Keys finds the secret of an access key ID, and decides what its holder may call.
type Keys interface {
	// Secret returns the key's secret; ok is false for an unknown key.
	Secret(accessKeyID string) (secret string, ok bool)
	// Authorize is asked once a request's signature is good: nil lets the key's holder
	// call op; otherwise the error (AccessDeniedException, ThrottlingException) is the
	// answer.
	Authorize(ctx context.Context, accessKeyID, op string) error
}

// StaticKeys is a fixed set of access key ID -> secret access key, each allowed everything.
type StaticKeys map[string]string

// Secret implements Keys.
func (k StaticKeys) Secret(id string) (string, bool) {
	s, ok := k[id]
	return s, ok
}

// Authorize implements Keys.
func (k StaticKeys) Authorize(context.Context, string, string) error { return nil }

// MaxClockSkew is how far a request's signing time may be from the server's clock.
const MaxClockSkew = 15 * time.Minute

const (
	sigAlgorithm = "AWS4-HMAC-SHA256"
	amzDate      = "20060102T150405Z"
)

// verifier checks SigV4 signatures by signing the request again with the AWS SDK's signer
// and comparing. Only the headers the client signed are given to the signer, so the
// canonical request is the client's.
type verifier struct {
	keys   Keys
	now    func() time.Time
	signer *v4.Signer
}

func newVerifier(keys Keys, now func() time.Time) *verifier {
	return &verifier{keys: keys, now: now, signer: v4.NewSigner(func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = false
	})}
}

type authHeader struct {
	accessKey, date, region, service string
	signedHeaders                    []string
	signature                        string
}

func parseAuthorization(h string) (authHeader, error) {
	var a authHeader
	alg, rest, ok := strings.Cut(h, " ")
	if !ok || alg != sigAlgorithm {
		return a, gamelift.IncompleteSignature("Authorization header requires the %s algorithm with Credential, SignedHeaders and Signature", sigAlgorithm)
	}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			scope := strings.Split(v, "/")
			if len(scope) != 5 || scope[4] != "aws4_request" {
				return a, gamelift.IncompleteSignature("Credential must be <key>/<date>/<region>/<service>/aws4_request, not %q", v)
			}
			a.accessKey, a.date, a.region, a.service = scope[0], scope[1], scope[2], scope[3]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	switch {
	case a.accessKey == "":
		return a, gamelift.IncompleteSignature("Authorization header requires 'Credential' parameter")
	case a.signedHeaders == nil:
		return a, gamelift.IncompleteSignature("Authorization header requires 'SignedHeaders' parameter")
	case a.signature == "":
		return a, gamelift.IncompleteSignature("Authorization header requires 'Signature' parameter")
	}
	return a, nil
}

// signedRequest is what a request's headers tell of its signature, checked as far as can
// be without its body.
type signedRequest struct {
	auth     authHeader
	secret   string
	signedAt time.Time
}

// checkHeaders checks all of r's signature that needs no body: the Authorization header is
// well formed, names a known key and the gamelift service, lists host and the required
// headers (lower case) among SignedHeaders, and the signing time is within MaxClockSkew.
func (v *verifier) checkHeaders(r *http.Request, required ...string) (signedRequest, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return signedRequest{}, gamelift.MissingAuthenticationToken("Missing Authentication Token")
	}
	a, err := parseAuthorization(h)
	if err != nil {
		return signedRequest{}, err
	}
	secret, ok := v.keys.Secret(a.accessKey)
	if !ok {
		return signedRequest{}, gamelift.UnrecognizedClient("The security token included in the request is invalid.")
	}
	if a.service != "gamelift" {
		return signedRequest{}, gamelift.InvalidSignature("Credential should be scoped to correct service: 'gamelift'.")
	}
	for _, name := range append([]string{"host"}, required...) {
		if !slices.Contains(a.signedHeaders, name) {
			return signedRequest{}, gamelift.IncompleteSignature("'%s' must be a 'SignedHeader' in the AWS Authorization.", http.CanonicalHeaderKey(name))
		}
	}
	for _, name := range a.signedHeaders {
		if name != "host" && name != "content-length" && len(r.Header.Values(name)) == 0 {
			return signedRequest{}, gamelift.InvalidSignature("The request signature we calculated does not match the signature you provided: signed header %q is missing.", name)
		}
	}
	stamp := r.Header.Get("X-Amz-Date")
	signedAt, err := time.Parse(amzDate, stamp)
	if err != nil {
		return signedRequest{}, gamelift.IncompleteSignature("Authorization requires a valid X-Amz-Date header in the form 20060102T150405Z, not %q", stamp)
	}
	if !strings.HasPrefix(stamp, a.date) {
		return signedRequest{}, gamelift.InvalidSignature("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s'", a.date, stamp[:min(8, len(stamp))])
	}
	now := v.now().UTC()
	if d := now.Sub(signedAt); d > MaxClockSkew || d < -MaxClockSkew {
		return signedRequest{}, gamelift.InvalidSignature("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			stamp, now.Add(-MaxClockSkew).Format(amzDate), now.Format(amzDate))
	}
	return signedRequest{auth: a, secret: secret, signedAt: signedAt}, nil
}

// checkSignature checks the signature of r, whose headers checkHeaders accepted as sr,
// over a body whose SHA-256 is payloadHash (hex).
func (v *verifier) checkSignature(ctx context.Context, r *http.Request, sr signedRequest, payloadHash string) error {
	a := sr.auth
	// Rebuild the request as the client signed it: its method, path, query, host and the
	// headers it listed, nothing else.
	signed, err := http.NewRequestWithContext(ctx, r.Method, "http://placeholder", nil)
	if err != nil {
		return gamelift.InternalFailure("rebuild request: %v", err)
	}
	u := *r.URL
	signed.URL = &u
	signed.Host = r.Host
	for _, name := range a.signedHeaders {
		switch name {
		case "host", "authorization":
		case "content-length":
			n, err := strconv.ParseInt(r.Header.Get("Content-Length"), 10, 64)
			if err != nil {
				n = r.ContentLength
			}
			signed.ContentLength = n
		default:
			signed.Header[http.CanonicalHeaderKey(name)] = r.Header.Values(name)
		}
	}
	creds := aws.Credentials{AccessKeyID: a.accessKey, SecretAccessKey: sr.secret}
	if err := v.signer.SignHTTP(ctx, creds, signed, payloadHash, a.service, a.region, sr.signedAt); err != nil {
		return gamelift.InternalFailure("sign: %v", err)
	}
	want, err := parseAuthorization(signed.Header.Get("Authorization"))
	if err != nil {
		return gamelift.InternalFailure("parse own signature: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(want.signature), []byte(a.signature)) != 1 {
		return gamelift.InvalidSignature("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return nil
}
