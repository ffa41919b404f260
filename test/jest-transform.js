// TypeScript through SWC, for every jest config of the project.
module.exports = { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }] };
