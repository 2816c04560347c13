package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/gamelift"
	"github.com/aws/aws-sdk-go-v2/service/gamelift/types"

	"github.com/hoist-dev/hoist/internal/builds"
)

// ServerProcess is one line of a runtime configuration: run Count copies of LaunchPath.
type ServerProcess struct {
	LaunchPath string
	Parameters string
	Count      int
}

// Control is what the agent needs of the Hoist server.
type Control interface {
	// Register registers this host as a compute of the fleet and returns the SDK endpoint
	// its processes connect to.
	Register(ctx context.Context) (sdkEndpoint string, err error)
	Deregister(ctx context.Context) error
	// LocationStatus is the status of the fleet location this host serves: ACTIVATING
	// or ACTIVE while it should run processes; "" when the fleet or location is gone.
	LocationStatus(ctx context.Context) (string, error)
	// AuthToken gets a fresh token for the host's processes.
	AuthToken(ctx context.Context) (token string, expires time.Time, err error)
	// RuntimeConfiguration says which processes the host should run.
	RuntimeConfiguration(ctx context.Context) ([]ServerProcess, error)
	// ReportEvent records a fleet event (a crash, a bad launch path).
	ReportEvent(ctx context.Context, code, message string) error
	// ProcessExited tells the service a process exited, so the game session it hosted ends
	// at once; code names the fleet event its end is (SERVER_PROCESS_CRASHED,
	// SERVER_PROCESS_FORCE_TERMINATED), "" for none, with message saying more.
	ProcessExited(ctx context.Context, processID, code, message string) error
	// ConnectedProcesses returns those of the processes named that the service has seen
	// connect (or cannot tell that it has not).
	ConnectedProcesses(ctx context.Context, processIDs []string) ([]string, error)
	// TerminateProcess asks a process, through the service, to end (OnProcessTerminate).
	// Unless force is set, a process hosting a protected game session is kept: ErrProtected.
	TerminateProcess(ctx context.Context, processID string, force bool) error
	// FleetBuild names the build the fleet runs, "" for none.
	FleetBuild(ctx context.Context) (string, error)
	// DownloadBuild writes the build's archive (a zip) to w.
	DownloadBuild(ctx context.Context, buildID string, w io.Writer) error
	// ProcessLogPaths names the files a process listed in LogPaths.
	ProcessLogPaths(ctx context.Context, processID string) ([]string, error)
	// UploadLogs gives the server a process's logs (a zip of size bytes) for
	// GetGameSessionLogUrl.
	UploadLogs(ctx context.Context, processID string, archive io.Reader, size int64) error
}

// APIControl is a Control over the GameLift API (an AWS SDK client) plus Hoist's agent
// endpoint for what that API has no operation for.
type APIControl struct {
	Client      *gamelift.Client
	Endpoint    string // the server's http:// URL, for the agent endpoint
	HTTP        *http.Client
	FleetID     string
	ComputeName string
	Location    string // "" for a managed fleet's home Region
	IPAddress   string

	token    string
	location string // where the host registered
}

// Register implements Control.
func (c *APIControl) Register(ctx context.Context) (string, error) {
	in := &gamelift.RegisterComputeInput{FleetId: &c.FleetID, ComputeName: &c.ComputeName, IpAddress: &c.IPAddress}
	if c.Location != "" {
		in.Location = &c.Location
	}
	out, err := c.Client.RegisterCompute(ctx, in)
	if err != nil {
		return "", fmt.Errorf("register compute %s in fleet %s: %w", c.ComputeName, c.FleetID, err)
	}
	c.location = aws.ToString(out.Compute.Location)
	return aws.ToString(out.Compute.GameLiftServiceSdkEndpoint), nil
}

// Deregister implements Control. A compute already gone (its fleet deleted) is no error.
func (c *APIControl) Deregister(ctx context.Context) error {
	_, err := c.Client.DeregisterCompute(ctx, &gamelift.DeregisterComputeInput{FleetId: &c.FleetID, ComputeName: &c.ComputeName})
	var nf *types.NotFoundException
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("deregister compute %s: %w", c.ComputeName, err)
	}
	return nil
}

// LocationStatus implements Control.
func (c *APIControl) LocationStatus(ctx context.Context) (string, error) {
	out, err := c.Client.DescribeFleetLocationAttributes(ctx, &gamelift.DescribeFleetLocationAttributesInput{
		FleetId: &c.FleetID, Locations: []string{c.location},
	})
	var nf *types.NotFoundException
	if errors.As(err, &nf) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("describe fleet location: %w", err)
	}
	for _, l := range out.LocationAttributes {
		if l.LocationState != nil && aws.ToString(l.LocationState.Location) == c.location {
			return string(l.LocationState.Status), nil
		}
	}
	return "", nil
}

// AuthToken implements Control.
func (c *APIControl) AuthToken(ctx context.Context) (string, time.Time, error) {
	out, err := c.Client.GetComputeAuthToken(ctx, &gamelift.GetComputeAuthTokenInput{FleetId: &c.FleetID, ComputeName: &c.ComputeName})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("get compute auth token: %w", err)
	}
	c.token = aws.ToString(out.AuthToken)
	return c.token, aws.ToTime(out.ExpirationTimestamp), nil
}

// RuntimeConfiguration implements Control.
func (c *APIControl) RuntimeConfiguration(ctx context.Context) ([]ServerProcess, error) {
	out, err := c.Client.DescribeRuntimeConfiguration(ctx, &gamelift.DescribeRuntimeConfigurationInput{FleetId: &c.FleetID})
	if err != nil {
		return nil, fmt.Errorf("describe runtime configuration: %w", err)
	}
	var sps []ServerProcess
	for _, sp := range out.RuntimeConfiguration.ServerProcesses {
		sps = append(sps, ServerProcess{LaunchPath: aws.ToString(sp.LaunchPath), Parameters: aws.ToString(sp.Parameters), Count: int(aws.ToInt32(sp.ConcurrentExecutions))})
	}
	return sps, nil
}

// ReportEvent implements Control.
func (c *APIControl) ReportEvent(ctx context.Context, code, message string) error {
	return c.call(ctx, map[string]any{"Action": "ReportEvent", "EventCode": code, "Message": message})
}

// ProcessExited implements Control.
func (c *APIControl) ProcessExited(ctx context.Context, processID, code, message string) error {
	return c.call(ctx, map[string]any{"Action": "ProcessExited", "ProcessId": processID, "EventCode": code, "Message": message})
}

// ConnectedProcesses implements Control.
func (c *APIControl) ConnectedProcesses(ctx context.Context, processIDs []string) ([]string, error) {
	var out struct{ ProcessIds []string }
	err := c.callInto(ctx, map[string]any{"Action": "ConnectedProcesses", "ProcessIds": processIDs}, &out)
	return out.ProcessIds, err
}

// ErrProtected: the process hosts a game session with FullProtection.
var ErrProtected = errors.New("the process hosts a protected game session")

// TerminateProcess implements Control.
func (c *APIControl) TerminateProcess(ctx context.Context, processID string, force bool) error {
	return c.call(ctx, map[string]any{"Action": "TerminateProcess", "ProcessId": processID, "Force": force})
}

// FleetBuild implements Control.
func (c *APIControl) FleetBuild(ctx context.Context) (string, error) {
	out, err := c.Client.DescribeFleetAttributes(ctx, &gamelift.DescribeFleetAttributesInput{FleetIds: []string{c.FleetID}})
	if err != nil {
		return "", fmt.Errorf("describe fleet: %w", err)
	}
	return aws.ToString(out.FleetAttributes[0].BuildId), nil
}

// DownloadBuild implements Control.
func (c *APIControl) DownloadBuild(ctx context.Context, buildID string, w io.Writer) error {
	q := url.Values{"FleetId": {c.FleetID}, "ComputeName": {c.ComputeName}, "AuthToken": {c.token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.Endpoint, "/")+builds.UploadPath+buildID+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("download build %s: %w", buildID, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download build %s: %s", buildID, resp.Status)
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

// ProcessLogPaths implements Control.
func (c *APIControl) ProcessLogPaths(ctx context.Context, processID string) ([]string, error) {
	var out struct{ LogPaths []string }
	err := c.callInto(ctx, map[string]any{"Action": "ProcessLogPaths", "ProcessId": processID}, &out)
	return out.LogPaths, err
}

// UploadLogs implements Control.
func (c *APIControl) UploadLogs(ctx context.Context, processID string, archive io.Reader, size int64) error {
	q := url.Values{"FleetId": {c.FleetID}, "ComputeName": {c.ComputeName}, "AuthToken": {c.token}, "ProcessId": {processID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, strings.TrimSuffix(c.Endpoint, "/")+"/hoist/agent/logs?"+q.Encode(), io.NopCloser(archive))
	if err != nil {
		return err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/zip")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("upload logs of %s: %w", processID, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("upload logs of %s: %s", processID, resp.Status)
	}
	return nil
}

func (c *APIControl) httpClient() *http.Client {
	if c.HTTP == nil {
		return http.DefaultClient
	}
	return c.HTTP
}

func (c *APIControl) call(ctx context.Context, body map[string]any) error {
	return c.callInto(ctx, body, nil)
}

func (c *APIControl) callInto(ctx context.Context, body map[string]any, out any) error {
	body["FleetId"], body["ComputeName"], body["AuthToken"] = c.FleetID, c.ComputeName, c.token
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.Endpoint, "/")+"/hoist/agent", bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("agent call %s: %w", body["Action"], err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusConflict {
		return ErrProtected
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Message string }
		json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("agent call %s: %d %s", body["Action"], resp.StatusCode, e.Message)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}
