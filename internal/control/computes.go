package control

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/store"
)

const (
	computeActive      = "ACTIVE"
	computeTerminating = "TERMINATING"
)

func computeKey(fleetID, name string) string { return fleetID + "/" + name }

// computeName turns a compute name or ARN into the name.
func computeName(nameOrARN *string) string {
	v := gamelift.Value(nameOrARN)
	if strings.HasPrefix(v, "arn:") {
		_, name, _ := strings.Cut(v, ":compute/")
		return name
	}
	return v
}

// RegisterCompute registers a host of an Anywhere fleet in one of the fleet's custom
// locations and tells it where game server processes connect. As a Hoist extension, a
// host agent registers a managed (EC2) fleet's host the same way, as an instance in the
// home Region or a remote location.
func (s *Service) RegisterCompute(ctx context.Context, in *gamelift.RegisterComputeInput) (*gamelift.RegisterComputeOutput, error) {
	f, err := s.getFleet(ctx, in.FleetId)
	if err != nil {
		if gamelift.IsCode(err, "NotFoundException") {
			return nil, gamelift.InvalidRequest("Fleet %s not found", gamelift.IDOf(in.FleetId))
		}
		return nil, err
	}
	fleetID := gamelift.Value(f.Attributes.FleetId)
	computeType := gamelift.Value(f.Attributes.ComputeType)
	if isContainer(f) {
		return nil, gamelift.InvalidRequest("Fleet %s is a container fleet: its computes are the pods Hoist's Kubernetes engine runs", fleetID)
	}
	// A managed fleet's hosts register while it activates: their processes make it ACTIVE.
	if st := gamelift.Value(f.Attributes.Status); st != FleetActive && !(computeType == ComputeEC2 && st == FleetActivating) {
		return nil, gamelift.NotReady("Fleet %s is %s, not ACTIVE", fleetID, st)
	}
	if in.IpAddress == nil && in.DnsName == nil {
		return nil, gamelift.InvalidRequest("Specify an IpAddress or a DnsName for the compute")
	}
	location := gamelift.Value(in.Location)
	switch {
	case location == "" && computeType == ComputeAnywhere:
		return nil, gamelift.InvalidRequest("Location is required to register a compute in an Anywhere fleet")
	case location == "":
		location = s.region
	}
	l := locationOf(&f, location)
	if l == nil {
		return nil, gamelift.InvalidRequest("Location %s does not belong to fleet %s", location, fleetID)
	}
	if l.Status != locationStatusActive && l.Status != locationStatusActivate {
		return nil, gamelift.NotReady("Location %s of fleet %s is %s", location, fleetID, l.Status)
	}
	name := gamelift.Value(in.ComputeName)
	c := gamelift.Compute{
		FleetId: &fleetID, FleetArn: f.Attributes.FleetArn, ComputeName: &name,
		ComputeArn: gamelift.String(s.arn("compute", name)), IpAddress: in.IpAddress, DnsName: in.DnsName,
		ComputeStatus: gamelift.String(computeActive), Location: &location, CreationTime: gamelift.At(s.now()),
		OperatingSystem: f.Attributes.OperatingSystem, Type: gamelift.String(computeType),
		GameLiftServiceSdkEndpoint: gamelift.String(s.sdkEndpoint),
	}
	key := computeKey(fleetID, name)
	if computeType == ComputeEC2 {
		c.InstanceId = &name
	}
	rec := store.Compute{Model: c, CertificatePath: gamelift.Value(in.CertificatePath)}
	s.registerMu.Lock()
	err = s.checkComputeLimit(ctx, key)
	if err == nil {
		err = s.store.Computes().Create(ctx, key, fleetID, rec)
	}
	s.registerMu.Unlock()
	if gamelift.IsCode(err, "LimitExceededException") {
		return nil, err
	}
	if errors.Is(err, store.ErrExists) {
		// A host registering again (after a restart, say) takes over its registration.
		rec, err = s.replaceCompute(ctx, key, rec)
		c = rec.Model
	}
	if err != nil {
		return nil, fmt.Errorf("register compute: %w", err)
	}
	s.hostRegistered(fleetID, location)
	return &gamelift.RegisterComputeOutput{Compute: &c}, nil
}

// replaceCompute replaces a compute's record with rec, keeping when it was first
// registered (and its port mappings when rec has none), and returns what it stored.
func (s *Service) replaceCompute(ctx context.Context, key string, rec store.Compute) (store.Compute, error) {
	_, err := s.store.Computes().Update(ctx, key, func(old *store.Compute) error {
		rec.Model.CreationTime = old.Model.CreationTime
		if rec.Ports == nil {
			rec.Ports = old.Ports
		}
		*old = rec
		return nil
	})
	return rec, err
}

func (s *Service) getCompute(ctx context.Context, fleetID, name *string) (store.Fleet, gamelift.Compute, error) {
	f, err := s.getFleet(ctx, fleetID)
	if err != nil {
		return f, gamelift.Compute{}, err
	}
	n := computeName(name)
	c, err := s.store.Computes().Get(ctx, computeKey(gamelift.Value(f.Attributes.FleetId), n))
	if err != nil {
		return f, c.Model, store.NotFoundAs(err, "Compute %s not found in fleet %s", n, gamelift.Value(f.Attributes.FleetId))
	}
	return f, c.Model, nil
}

// DeregisterCompute removes a compute from its fleet.
func (s *Service) DeregisterCompute(ctx context.Context, in *gamelift.DeregisterComputeInput) (*gamelift.DeregisterComputeOutput, error) {
	f, c, err := s.getCompute(ctx, in.FleetId, in.ComputeName)
	if err != nil {
		return nil, err
	}
	key := computeKey(gamelift.Value(f.Attributes.FleetId), gamelift.Value(c.ComputeName))
	if err := s.store.Computes().Delete(ctx, key); err != nil {
		return nil, store.NotFoundAs(err, "Compute %s not found", gamelift.Value(c.ComputeName))
	}
	if err := s.revokeAuthTokens(ctx, gamelift.Value(f.Attributes.FleetId), gamelift.Value(c.ComputeName)); err != nil {
		return nil, err
	}
	s.forgetEventBudgets(gamelift.Value(f.Attributes.FleetId), gamelift.Value(c.ComputeName))
	if err := s.forgetProcessesOf(ctx, gamelift.Value(f.Attributes.FleetId), func(name string) bool { return name == gamelift.Value(c.ComputeName) }); err != nil {
		return nil, err
	}
	return &gamelift.DeregisterComputeOutput{}, nil
}

// DescribeCompute returns a compute.
func (s *Service) DescribeCompute(ctx context.Context, in *gamelift.DescribeComputeInput) (*gamelift.DescribeComputeOutput, error) {
	_, c, err := s.getCompute(ctx, in.FleetId, in.ComputeName)
	if err != nil {
		return nil, err
	}
	return &gamelift.DescribeComputeOutput{Compute: &c}, nil
}

// ListCompute lists a fleet's computes, optionally in one location or status.
func (s *Service) ListCompute(ctx context.Context, in *gamelift.ListComputeInput) (*gamelift.ListComputeOutput, error) {
	f, err := s.getFleet(ctx, in.FleetId)
	if err != nil {
		return nil, err
	}
	page, err := s.store.Computes().List(ctx, store.Query{Parent: gamelift.Value(f.Attributes.FleetId)})
	if err != nil {
		return nil, fmt.Errorf("list computes: %w", err)
	}
	var all []gamelift.Compute
	for _, c := range page.Items {
		if in.Location != nil && gamelift.Value(c.Model.Location) != *in.Location ||
			in.ComputeStatus != nil && gamelift.Value(c.Model.ComputeStatus) != *in.ComputeStatus {
			continue
		}
		all = append(all, c.Model)
	}
	items, token, err := pageSlice(all, pageLimit(in.Limit), in.NextToken)
	if err != nil {
		return nil, err
	}
	return &gamelift.ListComputeOutput{ComputeList: nonNil(items), NextToken: token}, nil
}

// GetComputeAuthToken issues a random token, valid for a limited time, that game server
// processes on the compute present to the SDK endpoint.
func (s *Service) GetComputeAuthToken(ctx context.Context, in *gamelift.GetComputeAuthTokenInput) (*gamelift.GetComputeAuthTokenOutput, error) {
	f, c, err := s.getCompute(ctx, in.FleetId, in.ComputeName)
	if err != nil {
		return nil, err
	}
	tok, err := s.issueAuthToken(ctx, gamelift.Value(f.Attributes.FleetId), gamelift.Value(c.ComputeName))
	if err != nil {
		return nil, err
	}
	return &gamelift.GetComputeAuthTokenOutput{
		FleetId: f.Attributes.FleetId, FleetArn: f.Attributes.FleetArn, ComputeName: c.ComputeName,
		ComputeArn: c.ComputeArn, AuthToken: &tok.Token, ExpirationTimestamp: gamelift.At(tok.Expires),
	}, nil
}

// checkAuthToken returns the live token record if token was issued for the compute in
// the fleet and the compute is still registered; an expired, unknown or foreign token, or
// one of a deregistered compute, is refused.
func (s *Service) checkAuthToken(ctx context.Context, token, fleetID, compute string) (store.AuthToken, error) {
	t, _, err := s.authorize(ctx, token, fleetID, compute)
	return t, err
}

// authorize is checkAuthToken, returning the compute's record too.
func (s *Service) authorize(ctx context.Context, token, fleetID, compute string) (store.AuthToken, store.Compute, error) {
	var c store.Compute
	t, err := s.liveToken(ctx, token, fleetID, compute)
	if err != nil {
		return t, c, err
	}
	c, err = s.store.Computes().Get(ctx, computeKey(fleetID, compute))
	if errors.Is(err, store.ErrNotFound) {
		return t, c, gamelift.Unauthorized("compute %s is no longer registered in fleet %s", compute, fleetID)
	} else if err != nil {
		return t, c, fmt.Errorf("look up compute: %w", err)
	}
	return t, c, nil
}

// liveToken returns the token's record: it must be known, unexpired, and issued for the
// compute of the fleet.
func (s *Service) liveToken(ctx context.Context, token, fleetID, compute string) (store.AuthToken, error) {
	t, err := s.store.AuthTokens().Get(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return t, gamelift.Unauthorized("auth token not recognized")
	}
	if err != nil {
		return t, fmt.Errorf("look up auth token: %w", err)
	}
	if !s.now().Before(t.Expires) {
		return t, gamelift.Unauthorized("auth token expired at %s", t.Expires.Format("2006-01-02T15:04:05Z"))
	}
	if fleetID != t.FleetID || compute != t.ComputeName {
		return t, gamelift.Unauthorized("auth token was issued for another fleet or compute")
	}
	return t, nil
}

// revokeAuthTokens deletes the tokens issued for a compute of a fleet, or for every
// compute of it when compute is "".
func (s *Service) revokeAuthTokens(ctx context.Context, fleetID, compute string) error {
	page, err := s.store.AuthTokens().List(ctx, store.Query{Parent: fleetID})
	if err != nil {
		return fmt.Errorf("list auth tokens: %w", err)
	}
	for _, t := range page.Items {
		if compute != "" && t.ComputeName != compute {
			continue
		}
		if err := s.store.AuthTokens().Delete(ctx, t.Token); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("revoke auth token: %w", err)
		}
	}
	return nil
}

// issueAuthToken makes and keeps a new token for a compute.
func (s *Service) issueAuthToken(ctx context.Context, fleetID, compute string) (store.AuthToken, error) {
	return s.newAuthToken(ctx, fleetID, compute, s.tokenTTL)
}

// newAuthToken makes and keeps a token for a compute, good for ttl.
func (s *Service) newAuthToken(ctx context.Context, fleetID, compute string, ttl time.Duration) (store.AuthToken, error) {
	tok := store.AuthToken{Token: uuid.NewString(), FleetID: fleetID, ComputeName: compute, Expires: s.now().Add(ttl)}
	if err := s.store.AuthTokens().Create(ctx, tok.Token, tok.FleetID, tok); err != nil {
		return tok, fmt.Errorf("store auth token: %w", err)
	}
	return tok, nil
}
