// The model and API layers import nothing from JupyterLab at run time, so ts-jest compiles
// them as CommonJS and no ESM transform of @jupyterlab packages is needed.
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  testRegex: 'src/__tests__/.*\\.spec\\.ts$',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }]
  }
};
