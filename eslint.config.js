// ESLint for the page's modules (templates/js): `npm run lint`, run by test.sh beside `npm run typecheck`.
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
      // A figure is a class whose methods each do one thing (figures/*.js): no function, with
      // everything nested inside it, grows past what a reader holds in mind at once.
      "max-lines-per-function": ["error", {max: 100, IIFEs: true}],
    },
  },
];
