// The editor bundle's entry: CodeMirror 6 with the SPARQL mode, exposed as window.FwgraphCodeMirror for static/editor.js.
export { EditorState, Compartment } from "@codemirror/state";
export {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection,
  placeholder,
} from "@codemirror/view";
export { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
export {
  StreamLanguage, syntaxHighlighting, defaultHighlightStyle, bracketMatching, indentOnInput,
} from "@codemirror/language";
export { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap, startCompletion } from "@codemirror/autocomplete";
export { linter, lintGutter, setDiagnostics, forceLinting } from "@codemirror/lint";
export { sparql } from "@codemirror/legacy-modes/mode/sparql";
