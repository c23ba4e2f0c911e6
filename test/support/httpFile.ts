/**
 * Runs an .http request collection (the subset docs/walkthrough.http uses, as VS Code REST Client reads it):
 * `@name = value` file variables, requests separated by `###`, `# @name x` to name a request, `{{var}}`,
 * `{{$processEnv NAME}}`, `{{$guid}}` and `{{x.response.body.$.field}}` from a named request's JSON answer.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface HttpFileRequest {
  title: string;
  name?: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface HttpFile {
  variables: Record<string, string>;
  requests: HttpFileRequest[];
}

export function parseHttpFile(path: string): HttpFile {
  const variables: Record<string, string> = {};
  const requests: HttpFileRequest[] = [];
  const blocks = readFileSync(path, 'utf8').split(/^###/m);
  for (const [i, block] of blocks.entries()) {
    const lines = block.split('\n');
    const title = i === 0 ? '' : (lines.shift() ?? '').trim();
    let name: string | undefined;
    let request: HttpFileRequest | undefined;
    let inBody = false;
    const body: string[] = [];
    for (const line of lines) {
      if (!request) {
        const variable = /^@([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(line);
        const named = /^#\s*@name\s+(\S+)/.exec(line);
        const start = /^(GET|POST|PUT|PATCH|DELETE|HEAD)\s+(\S+)/.exec(line);
        if (variable) variables[variable[1]!] = variable[2]!.trim();
        else if (named) name = named[1];
        else if (start) request = { title, name, method: start[1]!, url: start[2]!, headers: {} };
        continue;
      }
      if (inBody) body.push(line);
      else if (line.trim() === '') inBody = true;
      else if (!line.startsWith('#')) {
        const colon = line.indexOf(':');
        request.headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
      }
    }
    if (request) {
      const text = body.join('\n').trim();
      if (text) request.body = text;
      requests.push(request);
    }
  }
  return { variables, requests };
}

export interface HttpFileAnswer {
  request: HttpFileRequest;
  status: number;
  body: unknown;
}

/** Sends every request in order; `overrides` replace file variables (e.g. the URLs of a test platform). */
export async function runHttpFile(
  file: HttpFile,
  o: { overrides?: Record<string, string>; env?: Record<string, string> },
): Promise<HttpFileAnswer[]> {
  const variables = { ...file.variables, ...o.overrides };
  const answers = new Map<string, unknown>();
  const expand = (text: string, depth = 0): string =>
    text.replace(/\{\{\s*([^}]+?)\s*\}\}/g, (_m, expr: string) => {
      if (expr === '$guid') return randomUUID();
      const env = /^\$processEnv\s+(\S+)$/.exec(expr);
      if (env) return o.env?.[env[1]!] ?? '';
      const ref = /^([A-Za-z0-9_]+)\.response\.body\.\$\.(.+)$/.exec(expr);
      if (ref) {
        let v = answers.get(ref[1]!) as Record<string, unknown> | undefined;
        for (const key of ref[2]!.split('.')) v = v?.[key] as Record<string, unknown> | undefined;
        if (v === undefined) throw new Error(`${expr}: no such value in the answer of ${ref[1]}`);
        return String(v);
      }
      const value = variables[expr];
      if (value === undefined) throw new Error(`{{${expr}}} is not defined`);
      return depth < 5 ? expand(value, depth + 1) : value;
    });
  const out: HttpFileAnswer[] = [];
  for (const request of file.requests) {
    const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, expand(v)]));
    const res = await fetch(expand(request.url), {
      method: request.method,
      headers,
      body: request.body ? expand(request.body) : undefined,
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    if (request.name) answers.set(request.name, body);
    out.push({ request, status: res.status, body });
  }
  return out;
}
