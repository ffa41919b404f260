export default async function globalTeardown(): Promise<void> {
  process.env.POOLPILOT_TEST_PROFILE = 'production';
  const { default: teardown } = await import('../integration/global-teardown');
  await teardown();
}
