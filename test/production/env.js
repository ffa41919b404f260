// Each production test file sees the production-profile lab.
process.env.POOLPILOT_TEST_PROFILE = 'production';
