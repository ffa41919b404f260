// The production-profile lab for npm run test:production: the integration harness on PostgreSQL + the Temporal server.
export default async function globalSetup(): Promise<void> {
  process.env.POOLPILOT_TEST_PROFILE = 'production';
  const { default: setup } = await import('../integration/global-setup');
  await setup();
}
