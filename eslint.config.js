// ESLint for the page's modules (templates/js): `npm run lint`, also run by .ci/run.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["templates/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: {...globals.browser, ...globals.worker, tf: "readonly", vega: "readonly"},
    },
    rules: {
      "max-len": ["error", {code: 120, ignoreUrls: true}],
      "no-unused-vars": ["error", {args: "after-used"}],
      "prefer-const": "error",
      "eqeqeq": ["error", "always", {null: "ignore"}],
    },
  },
];
