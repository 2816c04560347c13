// Package buildsvc answers GameLift's build operations (CreateBuild, DescribeBuild,
// ListBuilds, UpdateBuild, DeleteBuild), takes a build's uploaded archive (making the build
// READY), and hands that archive to the host agents of the fleets that run it.
//
// It owns the build records (the store's table of builds, whose tags it hands
// internal/tags with Tagged) and the builds' archives (Archives: a directory, Dir, on a Hoist
// server). It counts builds against their limit, makes ARNs and checks a host agent's
// compute auth token only through the Core interface it declares; the core
// (internal/control) reads builds, when a managed fleet is created, through
// control.BuildReader, which Service implements. The HTTP side of uploads and downloads
// (builds.UploadPath, SigV4 and the body) is internal/server's.
//
// It is not internal/builds: that package moves archives (zip a directory, upload it,
// unpack it safely) for the CLI and the host agent, which must not depend on the core or
// the store. This one is the server's side of builds.
package buildsvc
