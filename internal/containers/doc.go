// Package containers answers GameLift's container operations: container group
// definitions and their versions, container fleets and their deployments
// (DescribeFleetDeployment, ListFleetDeployments, DescribeContainerGroupPortMappings), and
// what a container engine (internal/kube) asks of Hoist: each fleet's plan, and the pods
// it starts and sees go.
//
// It owns the container group definitions (their store table, whose tags it hands
// internal/tags with Tagged) and the container part of a fleet's record (store.ContainerFleet:
// definitions, sizing, deployments). A container fleet is otherwise a fleet of the core
// (internal/control), and each of its pods a compute there: this package reads, creates,
// edits and deletes fleets, records events, and registers pods as computes, closes,
// drains and removes them only through the Core interface it declares. It tells its
// engine (Engine) when a fleet's plan changes; the core tells it (control.FleetListener)
// when a fleet's desired capacity changes or another replica changed a fleet.
package containers
