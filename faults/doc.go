// Package faults is atmosphere's reliability suite: `atmosphere deploy` as
// a process, with atmosphere's real charts, against a kwok cluster, a
// keystone and Debian's nova, placement, neutron, glance and cinder APIs
// the suite starts (every OpenStack set-up unit runs against them; only
// the Keycloak units are left out), while it is interrupted, killed,
// starved of its API server or keystone, raced by a second run, fed bad
// input, or made to fail. Each scenario checks that nothing is lost: the
// next run completes, no Helm release is left pending, no process is left
// behind, no secret reaches any output, and the set-up's objects in the
// real APIs are exactly those asked for (one of each name, whole). It has
// tests only.
//
// What each check holds to:
//   - An interrupt or kill point counts only when units were in flight as
//     the signal was sent (a started event with no end before it, in the
//     run's JSON events); the suites fail when fewer than 18 of the 20
//     SIGINT points or 9 of the 10 SIGKILL points do. A point interrupted
//     twice keeps memcached:install in flight (its pods unschedulable, a
//     long unit timeout), so that its second interrupt always cancels it.
//   - A set-up point (4 of the SIGINT points, 3 of the SIGKILL ones) is
//     signalled once glance-images:setup started and glance shows the
//     bed's image saving (its upload from a slow loopback server in
//     progress); it counts when that unit was in flight, and fewer than 3
//     and 2 such points fail the suites. After the next deploy glance must
//     hold exactly one image of the name, active, with the checksum of the
//     whole source.
//   - The set-up's end state is read back from the APIs after the whole
//     deploys too: exactly one of each image, flavor, network, subnet and
//     security group asked for, one health-manager port per controller
//     bound to it, the amphorae's keypair of the bed's key. A missing,
//     duplicated or half-made object fails, named.
//   - No process left behind: every atmosphere process the suite starts
//     carries a mark in its environment, which its children inherit; after
//     the run, any live process with the mark (in any process group) or
//     of the run's process group fails the test.
//   - A refused run touches nothing: the resourceVersion of every listable
//     object is the same before and after it.
//   - The secret scan looks for every generated secret, those the inventory
//     gives, the keystone admin's, the MariaDB root password and the
//     RabbitMQ default users' passwords the values read, literally and
//     base64- and URL-encoded, in every output: JSON events, the plain
//     lines and the terminal view (under a pseudo-terminal), -v and -vv
//     logs, the --dry-run plan, the reports, the cluster's Kubernetes
//     Events and the Helm releases' notes; a multi-line secret (the
//     amphorae's SSH key) line by line too, and any keystone token. The
//     JSON events, -vv logs and reports scanned must name every set-up
//     unit.
//   - A List that fails fails the check that needed it.
//   - Taking over a cloud atmosphere's Ansible deployed (adopt_test.go):
//     a bed of its own holds every Helm release of the fidelity
//     references installed by the helm CLI with the roles' values, the
//     roles' objects created under kubernetes.core.k8s's field manager,
//     and the fidelity inventory; a deploy must keep every release whose
//     values are its role's at its revision (the note says adopt),
//     upgrade only those docs/differences.md lists, change no object's
//     content nor Secret's data, generate no secret, refuse (exit 2,
//     nothing touched, nothing printed) an inventory that disagrees with
//     the cloud on a password, and reach the same end state after a
//     SIGINT or SIGKILL.
package faults
