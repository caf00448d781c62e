// ESLint for the TypeScript and JavaScript of the package, its tests, benchmarks and scripts (npm run lint).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // The build's and the scripts' outputs (what .gitignore keeps out of git).
  {
    ignores: [
      'dist/',
      'build/',
      'build-cmake/',
      'build-asan/',
      'prebuilds/',
      'node_modules/',
      '**/*.d.ts',
      'ablate-out/',
      'general-corpus-out/',
      'replicate-out/',
      'ulmfit-demo/',
      '.device/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        performance: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        queueMicrotask: 'readonly',
        structuredClone: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextDecoder: 'readonly',
        TextEncoder: 'readonly',
        globalThis: 'readonly',
        global: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      // A name starting with _ is deliberately unused (a destructured field left out, a callback's argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
);
