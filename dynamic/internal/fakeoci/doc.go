// Package fakeoci is a local stand-in for the parts of OCI's API the plugin calls, for tests: an HTTPS server
// on 127.0.0.1 that serves the database service's Autonomous Database operations (GetAutonomousDatabase,
// UpdateAutonomousDatabase, RestartAutonomousDatabase) and the work request operations (GetWorkRequest,
// ListWorkRequestErrors) under their real paths and with their real JSON shapes, so that oci-go-sdk's
// database and workrequests clients work against it unchanged.
//
// Every request must carry OCI's HTTP signature (draft-cavage, in the Authorization header, as the SDK sends
// it), made with the private key of the Identity the server was given; anything else is answered 401
// NotAuthenticated, as OCI does.
//
// A database changes in steps the test controls: a key switch passes through UPDATING and a restart through
// RESTARTING (or STOPPING and STARTING) for a configured number of polls before it is AVAILABLE again, and
// each change has a work request that goes ACCEPTED, IN_PROGRESS, then SUCCEEDED, or FAILED when told to.
// Faults (throttling with a retry hint, outages, a concurrent change answered 409, the limit of key switches)
// are injected a configured number of times. Every request is logged; nothing sleeps. A Server is safe for
// concurrent use.
package fakeoci
