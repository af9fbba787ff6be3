// Phantom volunteers (tools/boinc-test-server) for an example's fake project: they run the task
// module's bundle, the very code `tsmw-setup init` ships in the app version. A fast stand-in for
// BOINC clients: monte-pi-real-client.e2e.test.ts runs a real one.
import { startPhantomVolunteers as startVolunteers, type FakeBoincProject, type PhantomVolunteers } from '@tsmw/boinc-test-server';
import { bundleTaskModule } from '@tsmw/transport-boinc';

export type { PhantomVolunteers } from '@tsmw/boinc-test-server';

/** Starts phantom volunteers that run `tasks` (a task module file) for the project's workunits. */
export async function startPhantomVolunteers(project: FakeBoincProject, tasks: string | URL): Promise<PhantomVolunteers> {
  return startVolunteers(project, { bundle: await bundleTaskModule(tasks) });
}
