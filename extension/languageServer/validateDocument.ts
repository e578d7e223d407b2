/** Picks the validator for a document by its file name; the same ones `vendetta config validate` uses. */
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  validateDevcontainerText,
  validateNodesText,
  validateWorkspaceConfigText,
  type Diagnostic,
} from '../../coordinator/config';

export function validateDocument(uri: string, text: string): Diagnostic[] {
  const file = uri.startsWith('file:') ? fileURLToPath(uri) : uri;
  const name = basename(file);
  if (name === 'nodes.yaml') return validateNodesText(text, file).diagnostics;
  if (name === 'devcontainer.json' || name === '.devcontainer.json')
    return validateDevcontainerText(text, file).diagnostics;
  return validateWorkspaceConfigText(text, file).diagnostics;
}
