package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/hoist-dev/hoist/internal/awsproto"
	"github.com/hoist-dev/hoist/internal/certs"
	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

// Replicas call each other as Hoist operations of the API (Hoist.ReplicaPlaceSession),
// signed with SigV4 like any call, with a key kept in the store that every replica reads
// and that is allowed only these operations.
const (
	replicaKeyName = "replicas"
	replicaOpAllow = "hoist:Replica*"
	// peerCallTimeout bounds one call to another replica.
	peerCallTimeout = 5 * time.Second
)

// replicaOperations are the operations replicas call on each other.
func replicaOperations(svc *control.Service) map[string]awsproto.Handler {
	return map[string]awsproto.Handler{
		awsproto.HoistOperation("ReplicaPlaceSession"): func(ctx context.Context, decode func(any) error) (any, error) {
			var req control.PeerPlacement
			if err := decode(&req); err != nil {
				return nil, err
			}
			gs, err := svc.PlaceForPeer(ctx, req)
			if err != nil {
				return nil, err
			}
			return map[string]any{"GameSession": gs}, nil
		},
		awsproto.HoistOperation("ReplicaEndProcess"): func(ctx context.Context, decode func(any) error) (any, error) {
			var req control.PeerProcess
			if err := decode(&req); err != nil {
				return nil, err
			}
			return map[string]bool{"Found": svc.EndProcessForPeer(ctx, req)}, nil
		},
		awsproto.HoistOperation("ReplicaMetrics"): func(ctx context.Context, decode func(any) error) (any, error) {
			var req struct{ FleetID, Location string }
			if err := decode(&req); err != nil {
				return nil, err
			}
			return svc.LocalMetrics(req.FleetID, req.Location), nil
		},
		awsproto.HoistOperation("ReplicaUsage"): func(ctx context.Context, decode func(any) error) (any, error) {
			var req struct{ FleetID, Location string }
			if err := decode(&req); err != nil {
				return nil, err
			}
			return svc.UsageForPeer(req.FleetID, req.Location), nil
		},
	}
}

// peerClient implements control.Peers over HTTP.
type peerClient struct {
	creds  aws.Credentials
	region string
	client *http.Client
}

// newPeerClient calls the other replicas with key. Over TLS it trusts the system's
// certificates, $AWS_CA_BUNDLE's and the file caBundle (this server's self-signed one).
func newPeerClient(key store.AccessKey, region, caBundle string) (*peerClient, error) {
	hc, err := certs.HTTPClient(peerCallTimeout, caBundle)
	if err != nil {
		return nil, fmt.Errorf("replica client: %w", err)
	}
	return &peerClient{
		creds:  aws.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey},
		region: region,
		client: hc,
	}, nil
}

// PlaceSession implements control.Peers.
func (p *peerClient) PlaceSession(ctx context.Context, url string, req control.PeerPlacement) (store.GameSession, error) {
	var out struct{ GameSession store.GameSession }
	err := p.call(ctx, url, "ReplicaPlaceSession", req, &out)
	return out.GameSession, err
}

// EndProcess implements control.Peers.
func (p *peerClient) EndProcess(ctx context.Context, url string, req control.PeerProcess) (bool, error) {
	var out struct{ Found bool }
	err := p.call(ctx, url, "ReplicaEndProcess", req, &out)
	return out.Found, err
}

// Usage implements control.Peers.
func (p *peerClient) Usage(ctx context.Context, url, fleetID, location string) (control.Usage, error) {
	var out control.Usage
	err := p.call(ctx, url, "ReplicaUsage", map[string]string{"FleetID": fleetID, "Location": location}, &out)
	return out, err
}

// Metrics implements control.Peers.
func (p *peerClient) Metrics(ctx context.Context, url, fleetID, location string) (control.FleetMetrics, error) {
	var out control.FleetMetrics
	err := p.call(ctx, url, "ReplicaMetrics", map[string]string{"FleetID": fleetID, "Location": location}, &out)
	return out, err
}

func (p *peerClient) call(ctx context.Context, url, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(url, "/")+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "Hoist."+op)
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, p.creds, r, hex.EncodeToString(sum[:]), "gamelift", p.region, time.Now()); err != nil {
		return err
	}
	resp, err := p.client.Do(r)
	if err != nil {
		return fmt.Errorf("call replica %s: %w", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("call replica %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if json.Unmarshal(b, &e) != nil || e.Type == "" {
			return fmt.Errorf("call replica %s: HTTP %d", url, resp.StatusCode)
		}
		return &gamelift.Error{Code: e.Type, Message: e.Message, Status: resp.StatusCode}
	}
	return json.Unmarshal(b, out)
}
