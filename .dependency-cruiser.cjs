/**
 * The layers of docs/architecture.md, bottom up. A module may import its own
 * layer and the layers below it, never one above; the siblings gpu and simd
 * never import each other; nothing imports in a circle.
 */
const LAYERS = [
  'core',
  'charts',
  'simd',
  'gpu',
  'engine',
  'binary-index',
  'bitdelta',
  'experience',
  'aggregate',
  'aso',
  'evaluate',
  'network',
  'node',
  'simulate',
  'experiment',
  'cli',
];

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer}`,
  comment: `${layer} sits below ${LAYERS.slice(i + 1).join(', ')} and must not import them`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${LAYERS.slice(i + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'backends-are-siblings',
      comment: 'the WebGPU and SIMD backends stand on core, never on each other',
      severity: 'error',
      from: { path: '^src/(gpu|simd)/' },
      to: { path: '^src/(gpu|simd)/', pathNot: '^src/$1/' },
    },
    {
      name: 'root-is-the-engine',
      comment: 'the package root exports the engine, index, quantizer and aggregators; the DSO layers have subpaths',
      severity: 'error',
      from: { path: '^src/index\\.ts$' },
      to: { path: '^src/(aso|network|node|simulate|cli)/|^src/experience/(?!content-id\\.ts$)' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-not-from-tests',
      comment: 'the package never imports its tests or benchmarks',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|build|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
