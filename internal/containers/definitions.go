package containers

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hoist-dev/hoist/internal/control"
	"github.com/hoist-dev/hoist/internal/gamelift"
	"github.com/hoist-dev/hoist/internal/paging"
	"github.com/hoist-dev/hoist/internal/store"
	"github.com/hoist-dev/hoist/internal/tags"
)

// Container group definitions: what GameLift deploys on the instances of a container fleet,
// kept as numbered versions. Hoist keeps and checks them; it runs no container fleets and
// copies no images, so a version is READY as soon as it is made (GameLift's go COPYING,
// then READY once the images are copied).

// Container group rules, as GameLift documents them, and Hoist's bounds where GameLift
// publishes none.
const (
	groupGameServer  = "GAME_SERVER"
	groupPerInstance = "PER_INSTANCE"
	groupReady       = "READY"

	// maxGameServerSupport and maxPerInstanceSupport bound the support containers of each
	// type of group.
	maxGameServerSupport  = 8
	maxPerInstanceSupport = 10
	// minVcpu and maxVcpu bound TotalVcpuLimit and each container's Vcpu (the model gives
	// these bounds, which the generated validation does not check for doubles).
	minVcpu, maxVcpu = 0.125, 10.0
	// Hoist's bounds: definitions kept, and versions kept of each.
	maxContainerGroups        = 1000
	maxContainerGroupVersions = 100
	// listContainerGroupsLimit is a list's page size when no Limit is given.
	listContainerGroupsLimit = 100
)

// minContainerSDK is the oldest server SDK a game server container may use.
var minContainerSDK = [3]int{5, 2, 0}

// containerGroupARN matches a container group definition's ARN: its name, and its version
// when there is one.
var containerGroupARN = regexp.MustCompile(`^arn:.*:containergroupdefinition/([a-zA-Z0-9-]+)(?::([0-9]+))?$`)

// containerGroupRef turns a name or an ARN, with or without a version, into the name and
// the version (0 for none).
func containerGroupRef(nameOrARN *string) (string, int32, error) {
	v := gamelift.Value(nameOrARN)
	m := containerGroupARN.FindStringSubmatch(v)
	if m == nil {
		return v, 0, nil
	}
	if m[2] == "" {
		return m[1], 0, nil
	}
	n, err := strconv.ParseInt(m[2], 10, 32)
	if err != nil || n < 1 {
		return "", 0, gamelift.InvalidRequest("%s names no valid version", v)
	}
	return m[1], int32(n), nil
}

// pickVersion reconciles the version an ARN names with the one a request member gives.
func pickVersion(fromARN int32, member *int32, memberName string) (int32, error) {
	if member == nil {
		return fromARN, nil
	}
	if fromARN != 0 && fromARN != *member {
		return 0, gamelift.InvalidRequest("The ARN names version %d but %s is %d", fromARN, memberName, *member)
	}
	return *member, nil
}

func (s *Service) containerGroupVersionARN(name string, version int32) string {
	return fmt.Sprintf("%s:%d", s.core.ARN("containergroupdefinition", name), version)
}

// checkContainerGroup validates a container group definition beyond the model's
// constraints: the containers its type allows, their names and dependencies, and the
// group's resource limits.
func checkContainerGroup(d *gamelift.ContainerGroupDefinition) error {
	gs := d.GameServerContainerDefinition
	support := d.SupportContainerDefinitions
	switch t := gamelift.Value(d.ContainerGroupType); t {
	case groupGameServer:
		if gs == nil {
			return gamelift.InvalidRequest("A GAME_SERVER container group needs a GameServerContainerDefinition")
		}
		if len(support) > maxGameServerSupport {
			return gamelift.InvalidRequest("A GAME_SERVER container group has at most %d support containers, not %d", maxGameServerSupport, len(support))
		}
	case groupPerInstance:
		if gs != nil {
			return gamelift.InvalidRequest("A PER_INSTANCE container group has no GameServerContainerDefinition")
		}
		if len(support) == 0 {
			return gamelift.InvalidRequest("A PER_INSTANCE container group needs at least one support container")
		}
		if len(support) > maxPerInstanceSupport {
			return gamelift.InvalidRequest("A PER_INSTANCE container group has at most %d support containers, not %d", maxPerInstanceSupport, len(support))
		}
		if !slices.ContainsFunc(support, func(c gamelift.SupportContainerDefinition) bool { return gamelift.Value(c.Essential) }) {
			return gamelift.InvalidRequest("A PER_INSTANCE container group needs at least one essential support container")
		}
	default:
		return gamelift.InvalidRequest("ContainerGroupType must be GAME_SERVER or PER_INSTANCE, not %q", t)
	}
	if v := gamelift.Value(d.TotalVcpuLimit); v < minVcpu || v > maxVcpu {
		return gamelift.InvalidRequest("TotalVcpuLimit must be between %g and %g, not %g", minVcpu, maxVcpu, v)
	}

	// Every container of the group, the game server's first, as the checks below see it.
	type container struct {
		name      string
		essential bool
		health    bool
		dependsOn []gamelift.ContainerDependency
		ports     *gamelift.ContainerPortConfiguration
	}
	var all []container
	if gs != nil {
		if err := checkServerSDK(gamelift.Value(gs.ServerSdkVersion)); err != nil {
			return err
		}
		all = append(all, container{name: gamelift.Value(gs.ContainerName), essential: true, dependsOn: gs.DependsOn, ports: gs.PortConfiguration})
	}
	var memory int64
	var vcpu float64
	for i, c := range support {
		if c.Vcpu != nil {
			if v := *c.Vcpu; v < minVcpu || v > maxVcpu {
				return gamelift.InvalidRequest("SupportContainerDefinitions[%d]: Vcpu must be between %g and %g, not %g", i, minVcpu, maxVcpu, v)
			}
			vcpu += *c.Vcpu
		}
		memory += int64(gamelift.Value(c.MemoryHardLimitMebibytes))
		all = append(all, container{name: gamelift.Value(c.ContainerName), essential: gamelift.Value(c.Essential),
			health: c.HealthCheck != nil, dependsOn: c.DependsOn, ports: c.PortConfiguration})
	}
	if total := int64(gamelift.Value(d.TotalMemoryLimitMebibytes)); memory > total {
		return gamelift.InvalidRequest("The containers' MemoryHardLimitMebibytes add up to %d, more than TotalMemoryLimitMebibytes %d", memory, total)
	}
	if total := gamelift.Value(d.TotalVcpuLimit); vcpu > total+1e-9 {
		return gamelift.InvalidRequest("The containers' Vcpu add up to %g, more than TotalVcpuLimit %g", vcpu, total)
	}

	byName := map[string]container{}
	for _, c := range all {
		if _, dup := byName[c.name]; dup {
			return gamelift.InvalidRequest("Two containers of the group are named %s", c.name)
		}
		byName[c.name] = c
	}
	for _, c := range all {
		if c.ports != nil {
			for j, r := range c.ports.ContainerPortRanges {
				if gamelift.Value(r.FromPort) > gamelift.Value(r.ToPort) {
					return gamelift.InvalidRequest("Container %s: ContainerPortRanges[%d] has FromPort %d above ToPort %d", c.name, j, gamelift.Value(r.FromPort), gamelift.Value(r.ToPort))
				}
			}
		}
		seen := map[string]bool{}
		for _, dep := range c.dependsOn {
			on := gamelift.Value(dep.ContainerName)
			target, ok := byName[on]
			switch cond := gamelift.Value(dep.Condition); {
			case on == c.name:
				return gamelift.InvalidRequest("Container %s depends on itself", c.name)
			case !ok:
				return gamelift.InvalidRequest("Container %s depends on %s, which is not a container of the group", c.name, on)
			case seen[on]:
				return gamelift.InvalidRequest("Container %s lists its dependency on %s twice", c.name, on)
			case (cond == "COMPLETE" || cond == "SUCCESS") && target.essential:
				return gamelift.InvalidRequest("Container %s depends on %s reaching %s, but an essential container never may (the game server container is essential)", c.name, on, cond)
			case cond == "HEALTHY" && !target.health:
				return gamelift.InvalidRequest("Container %s depends on %s being HEALTHY, but %s has no HealthCheck", c.name, on, on)
			}
			seen[on] = true
		}
	}
	// No cycles: a depth-first walk that meets a container still on its path has one.
	const (
		unvisited = iota
		onPath
		done
	)
	state := map[string]int{}
	var walk func(name string, path []string) error
	walk = func(name string, path []string) error {
		switch state[name] {
		case onPath:
			return gamelift.InvalidRequest("The containers' DependsOn make a cycle: %s", strings.Join(append(path, name), " -> "))
		case done:
			return nil
		}
		state[name] = onPath
		for _, dep := range byName[name].dependsOn {
			if err := walk(gamelift.Value(dep.ContainerName), append(path, name)); err != nil {
				return err
			}
		}
		state[name] = done
		return nil
	}
	for _, c := range all {
		if err := walk(c.name, nil); err != nil {
			return err
		}
	}
	return nil
}

// checkServerSDK refuses server SDK versions container fleets cannot run.
func checkServerSDK(v string) error {
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return gamelift.InvalidRequest("ServerSdkVersion %q is not of the form major.minor.patch", v)
	}
	var have [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return gamelift.InvalidRequest("ServerSdkVersion %q is not of the form major.minor.patch", v)
		}
		have[i] = n
	}
	if slices.Compare(have[:], minContainerSDK[:]) < 0 {
		return gamelift.InvalidRequest("ServerSdkVersion %s is too old: container fleets need server SDK %d.%d.%d or later", v, minContainerSDK[0], minContainerSDK[1], minContainerSDK[2])
	}
	return nil
}

func gameServerContainer(in *gamelift.GameServerContainerDefinitionInput) *gamelift.GameServerContainerDefinition {
	if in == nil {
		return nil
	}
	return &gamelift.GameServerContainerDefinition{
		ContainerName: in.ContainerName, DependsOn: in.DependsOn, MountPoints: in.MountPoints,
		EnvironmentOverride: in.EnvironmentOverride, ImageUri: in.ImageUri, PortConfiguration: in.PortConfiguration,
		ServerSdkVersion: in.ServerSdkVersion,
	}
}

func supportContainers(in []gamelift.SupportContainerDefinitionInput) []gamelift.SupportContainerDefinition {
	if len(in) == 0 {
		return nil
	}
	out := make([]gamelift.SupportContainerDefinition, len(in))
	for i, c := range in {
		out[i] = gamelift.SupportContainerDefinition{
			ContainerName: c.ContainerName, DependsOn: c.DependsOn, MountPoints: c.MountPoints,
			EnvironmentOverride: c.EnvironmentOverride, Essential: c.Essential, HealthCheck: c.HealthCheck,
			ImageUri: c.ImageUri, MemoryHardLimitMebibytes: c.MemoryHardLimitMebibytes,
			PortConfiguration: c.PortConfiguration, Vcpu: c.Vcpu,
		}
	}
	return out
}

// CreateContainerGroupDefinition makes a definition, its version 1.
func (s *Service) CreateContainerGroupDefinition(ctx context.Context, in *gamelift.CreateContainerGroupDefinitionInput) (*gamelift.CreateContainerGroupDefinitionOutput, error) {
	release, err := s.core.Admit(ctx, control.KindContainerGroupDefinitions, s.countDefinitions)
	if err != nil {
		return nil, err
	}
	defer release()
	name := gamelift.Value(in.Name)
	d := gamelift.ContainerGroupDefinition{
		Name: in.Name, ContainerGroupDefinitionArn: gamelift.String(s.containerGroupVersionARN(name, 1)),
		ContainerGroupType: in.ContainerGroupType, OperatingSystem: in.OperatingSystem,
		TotalMemoryLimitMebibytes: in.TotalMemoryLimitMebibytes, TotalVcpuLimit: in.TotalVcpuLimit,
		GameServerContainerDefinition: gameServerContainer(in.GameServerContainerDefinition),
		SupportContainerDefinitions:   supportContainers(in.SupportContainerDefinitions),
		VersionNumber:                 gamelift.Int32(1), VersionDescription: in.VersionDescription,
		Status: gamelift.String(groupReady), CreationTime: gamelift.At(s.now()),
	}
	if d.ContainerGroupType == nil {
		d.ContainerGroupType = gamelift.String(groupGameServer)
	}
	if err := checkContainerGroup(&d); err != nil {
		return nil, err
	}
	tagged, err := tags.Create(in.Tags)
	if err != nil {
		return nil, err
	}
	table := s.defs
	page, err := table.List(ctx, store.Query{Limit: maxContainerGroups})
	if err != nil {
		return nil, fmt.Errorf("count container group definitions: %w", err)
	}
	if len(page.Items) >= maxContainerGroups {
		return nil, gamelift.LimitExceeded("Hoist keeps at most %d container group definitions", maxContainerGroups)
	}
	rec := store.ContainerGroupDefinition{Versions: []gamelift.ContainerGroupDefinition{d}, LastVersion: 1, Tags: tagged}
	if err := table.Create(ctx, name, gamelift.Value(d.ContainerGroupType), rec); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, gamelift.InvalidRequest("A container group definition named %s exists", name)
		}
		return nil, fmt.Errorf("create container group definition: %w", err)
	}
	return &gamelift.CreateContainerGroupDefinitionOutput{ContainerGroupDefinition: &d}, nil
}

func (s *Service) getContainerGroup(ctx context.Context, name string) (store.ContainerGroupDefinition, error) {
	rec, err := s.defs.Get(ctx, name)
	if err != nil {
		return rec, store.NotFoundAs(err, "Container group definition %s not found", name)
	}
	return rec, nil
}

// version finds a version of a definition; 0 is the latest.
func version(rec store.ContainerGroupDefinition, name string, n int32) (gamelift.ContainerGroupDefinition, error) {
	if n == 0 {
		return rec.Versions[len(rec.Versions)-1], nil
	}
	for _, v := range rec.Versions {
		if gamelift.Value(v.VersionNumber) == n {
			return v, nil
		}
	}
	return gamelift.ContainerGroupDefinition{}, gamelift.NotFound("Container group definition %s has no version %d", name, n)
}

// DescribeContainerGroupDefinition returns the latest version of a definition, or the one
// asked for.
func (s *Service) DescribeContainerGroupDefinition(ctx context.Context, in *gamelift.DescribeContainerGroupDefinitionInput) (*gamelift.DescribeContainerGroupDefinitionOutput, error) {
	name, fromARN, err := containerGroupRef(in.Name)
	if err != nil {
		return nil, err
	}
	n, err := pickVersion(fromARN, in.VersionNumber, "VersionNumber")
	if err != nil {
		return nil, err
	}
	rec, err := s.getContainerGroup(ctx, name)
	if err != nil {
		return nil, err
	}
	d, err := version(rec, name, n)
	if err != nil {
		return nil, err
	}
	return &gamelift.DescribeContainerGroupDefinitionOutput{ContainerGroupDefinition: &d}, nil
}

// ListContainerGroupDefinitions lists the latest version of each definition, or of those
// of one type.
func (s *Service) ListContainerGroupDefinitions(ctx context.Context, in *gamelift.ListContainerGroupDefinitionsInput) (*gamelift.ListContainerGroupDefinitionsOutput, error) {
	q := paging.Query(gamelift.Value(in.ContainerGroupType), in.Limit, in.NextToken)
	if q.Limit == 0 {
		q.Limit = listContainerGroupsLimit
	}
	page, err := s.defs.List(ctx, q)
	if err != nil {
		return nil, store.PageError(err)
	}
	out := &gamelift.ListContainerGroupDefinitionsOutput{ContainerGroupDefinitions: []gamelift.ContainerGroupDefinition{}}
	for _, rec := range page.Items {
		out.ContainerGroupDefinitions = append(out.ContainerGroupDefinitions, rec.Versions[len(rec.Versions)-1])
	}
	out.NextToken = paging.Next(page.Next)
	return out, nil
}

// ListContainerGroupDefinitionVersions lists a definition's versions, latest first. A
// version in the ARN is ignored, as in GameLift.
func (s *Service) ListContainerGroupDefinitionVersions(ctx context.Context, in *gamelift.ListContainerGroupDefinitionVersionsInput) (*gamelift.ListContainerGroupDefinitionVersionsOutput, error) {
	name, _, err := containerGroupRef(in.Name)
	if err != nil {
		return nil, err
	}
	rec, err := s.getContainerGroup(ctx, name)
	if err != nil {
		return nil, err
	}
	// The token is the version number the next page starts at: still right when versions
	// are deleted between pages.
	from := rec.LastVersion
	if t := gamelift.Value(in.NextToken); t != "" {
		n, err := strconv.ParseInt(t, 10, 32)
		if err != nil || n < 1 {
			return nil, gamelift.InvalidRequest("Invalid NextToken")
		}
		from = int32(n)
	}
	limit := int(gamelift.Value(in.Limit))
	if limit == 0 {
		limit = listContainerGroupsLimit
	}
	out := &gamelift.ListContainerGroupDefinitionVersionsOutput{ContainerGroupDefinitions: []gamelift.ContainerGroupDefinition{}}
	for i := len(rec.Versions) - 1; i >= 0; i-- {
		v := rec.Versions[i]
		if gamelift.Value(v.VersionNumber) > from {
			continue
		}
		if len(out.ContainerGroupDefinitions) == limit {
			out.NextToken = gamelift.String(strconv.Itoa(int(gamelift.Value(v.VersionNumber))))
			break
		}
		out.ContainerGroupDefinitions = append(out.ContainerGroupDefinitions, v)
	}
	return out, nil
}

// UpdateContainerGroupDefinition makes a new version from the latest one, or from
// SourceVersionNumber, with the members given changed. A SupportContainerDefinitions list
// given, even empty, replaces the source's.
func (s *Service) UpdateContainerGroupDefinition(ctx context.Context, in *gamelift.UpdateContainerGroupDefinitionInput) (*gamelift.UpdateContainerGroupDefinitionOutput, error) {
	name, fromARN, err := containerGroupRef(in.Name)
	if err != nil {
		return nil, err
	}
	source, err := pickVersion(fromARN, in.SourceVersionNumber, "SourceVersionNumber")
	if err != nil {
		return nil, err
	}
	var made gamelift.ContainerGroupDefinition
	_, err = s.defs.Update(ctx, name, func(rec *store.ContainerGroupDefinition) error {
		if len(rec.Versions) >= maxContainerGroupVersions {
			return gamelift.LimitExceeded("Container group definition %s has %d versions, the most Hoist keeps: delete some first", name, len(rec.Versions))
		}
		d, err := version(*rec, name, source)
		if err != nil {
			return err
		}
		if in.GameServerContainerDefinition != nil {
			d.GameServerContainerDefinition = gameServerContainer(in.GameServerContainerDefinition)
		}
		if in.SupportContainerDefinitions != nil {
			d.SupportContainerDefinitions = supportContainers(in.SupportContainerDefinitions)
		}
		if in.TotalMemoryLimitMebibytes != nil {
			d.TotalMemoryLimitMebibytes = in.TotalMemoryLimitMebibytes
		}
		if in.TotalVcpuLimit != nil {
			d.TotalVcpuLimit = in.TotalVcpuLimit
		}
		if in.OperatingSystem != nil {
			d.OperatingSystem = in.OperatingSystem
		}
		if in.VersionDescription != nil {
			d.VersionDescription = in.VersionDescription
		}
		if err := checkContainerGroup(&d); err != nil {
			return err
		}
		rec.LastVersion++
		d.VersionNumber = gamelift.Int32(rec.LastVersion)
		d.ContainerGroupDefinitionArn = gamelift.String(s.containerGroupVersionARN(name, rec.LastVersion))
		d.Status, d.StatusReason = gamelift.String(groupReady), nil
		d.CreationTime = gamelift.At(s.now())
		rec.Versions = append(rec.Versions, d)
		made = d
		return nil
	})
	if err != nil {
		return nil, groupErr(err, name)
	}
	return &gamelift.UpdateContainerGroupDefinitionOutput{ContainerGroupDefinition: &made}, nil
}

// DeleteContainerGroupDefinition deletes a whole definition, one version of it
// (VersionNumber, or an ARN with a version), or all but its newest VersionCountToRetain
// versions. Keeping none deletes the definition; its only version cannot be deleted alone.
func (s *Service) DeleteContainerGroupDefinition(ctx context.Context, in *gamelift.DeleteContainerGroupDefinitionInput) (*gamelift.DeleteContainerGroupDefinitionOutput, error) {
	name, fromARN, err := containerGroupRef(in.Name)
	if err != nil {
		return nil, err
	}
	n, err := pickVersion(fromARN, in.VersionNumber, "VersionNumber")
	if err != nil {
		return nil, err
	}
	if n != 0 && in.VersionCountToRetain != nil {
		return nil, gamelift.InvalidRequest("Give a version to delete or VersionCountToRetain, not both")
	}
	table := s.defs
	whole := n == 0 && (in.VersionCountToRetain == nil || *in.VersionCountToRetain == 0)
	if whole {
		if err := table.Delete(ctx, name); err != nil {
			return nil, store.NotFoundAs(err, "Container group definition %s not found", name)
		}
		return &gamelift.DeleteContainerGroupDefinitionOutput{}, nil
	}
	_, err = table.Update(ctx, name, func(rec *store.ContainerGroupDefinition) error {
		if n == 0 {
			if keep := int(*in.VersionCountToRetain); keep < len(rec.Versions) {
				rec.Versions = slices.Clone(rec.Versions[len(rec.Versions)-keep:])
			}
			return nil
		}
		i := slices.IndexFunc(rec.Versions, func(v gamelift.ContainerGroupDefinition) bool { return gamelift.Value(v.VersionNumber) == n })
		if i < 0 {
			return gamelift.NotFound("Container group definition %s has no version %d", name, n)
		}
		if len(rec.Versions) == 1 {
			return gamelift.InvalidRequest("Version %d is the only version of container group definition %s: delete the definition instead", n, name)
		}
		rec.Versions = slices.Delete(rec.Versions, i, i+1)
		return nil
	})
	if err != nil {
		return nil, groupErr(err, name)
	}
	return &gamelift.DeleteContainerGroupDefinitionOutput{}, nil
}

// groupErr passes an exception raised inside an update of a definition as is, and maps a
// definition that is not there to NotFoundException.
func groupErr(err error, name string) error {
	var e *gamelift.Error
	if errors.As(err, &e) {
		return err
	}
	return store.NotFoundAs(err, "Container group definition %s not found", name)
}

// countDefinitions counts the container group definitions, for the resource limit.
func (s *Service) countDefinitions(ctx context.Context) (int, error) {
	page, err := s.defs.List(ctx, store.Query{})
	if err != nil {
		return 0, err
	}
	return len(page.Items), nil
}
