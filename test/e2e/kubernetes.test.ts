/**
 * deploy/kubernetes/: every manifest validated against the Kubernetes schemas (kubernetes-models),
 * and cross-checked with the config the router would load (check-config on the ConfigMap's TOML):
 * ports and probes against --api-address, every path the router reads or writes against the
 * volumes mounted (read-only where it only reads), the security settings, the Secret, the memory
 * figures. And README's "Run as a Kubernetes sidecar" walk-through, run as written.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { BIN, runRouter } from '../support/cli';

const ROOT = join(__dirname, '..', '..');
const K8S = join(ROOT, 'deploy', 'kubernetes');
const SHAPES = ['sidecar', 'node-agent', 'wrapper'] as const;

// biome-ignore lint/suspicious/noExplicitAny: manifests are free-form YAML; kubernetes-models checks their shape
type Obj = Record<string, any>;

// biome-ignore lint/suspicious/noExplicitAny: each model takes its own resource type
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/DaemonSet': DaemonSet,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
};

/** Container keys of core/v1 Container: kubernetes-models does not reject unknown keys, this does. */
const CONTAINER_KEYS = new Set([
  'name', 'image', 'command', 'args', 'workingDir', 'ports', 'envFrom', 'env', 'resources', 'resizePolicy', 'restartPolicy',
  'volumeMounts', 'volumeDevices', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'terminationMessagePath',
  'terminationMessagePolicy', 'imagePullPolicy', 'securityContext', 'stdin', 'stdinOnce', 'tty',
]);

function manifests(shape: string): Obj[] {
  const kustomization = parse(readFileSync(join(K8S, shape, 'kustomization.yaml'), 'utf8')) as Obj;
  return (kustomization['resources'] as string[]).flatMap((file) =>
    parseAllDocuments(readFileSync(join(K8S, shape, file), 'utf8')).map((d) => d.toJSON() as Obj),
  );
}

function workload(shape: string): Obj {
  return manifests(shape).find((m) => m['kind'] === 'Deployment' || m['kind'] === 'DaemonSet')!;
}

function routerContainer(w: Obj): Obj {
  const spec = w['spec']['template']['spec'];
  const all: Obj[] = [...(spec['initContainers'] ?? []), ...spec['containers']];
  return all.find((c) => c['image'] === 'audit-router' || (c['command'] ?? [])[0] === 'audit-router')!;
}

/** The resolved config as check-config prints it, from the ConfigMap the container mounts. */
function loadedConfig(shape: string): { described: Obj; configPath: string } {
  const w = workload(shape);
  const c = routerContainer(w);
  const args = c['args'] as string[];
  const configPath = args[args.indexOf('-c') + 1]!;
  const mount = (c['volumeMounts'] as Obj[]).find((m) => configPath.startsWith(m['mountPath'] + '/'))!;
  expect(mount, `${shape}: the config ${configPath} is mounted`).toBeDefined();
  expect(mount['readOnly']).toBe(true);
  const volume = (w['spec']['template']['spec']['volumes'] as Obj[]).find((v) => v['name'] === mount['name'])!;
  const cm = manifests(shape).find((m) => m['kind'] === 'ConfigMap' && m['metadata']['name'] === volume['configMap']['name'])!;
  const text = cm['data'][posix.basename(configPath)] as string;
  expect(text, `${shape}: the ConfigMap has ${posix.basename(configPath)}`).toBeTypeOf('string');
  const dir = mkdtempSync(join(tmpdir(), 'ar-k8s-'));
  const file = join(dir, 'audit-router.toml');
  writeFileSync(file, text);
  const r = spawnSync(process.execPath, [BIN, 'check-config', '-c', file], {
    env: { ...process.env, DD_API_KEY: 'check-config-key', NODE_NAME: 'node-1' },
    encoding: 'utf8',
  });
  expect(r.status, `${shape}: check-config: ${r.stderr}`).toBe(0);
  return { described: JSON.parse(r.stdout) as Obj, configPath };
}

/** The mount a path lies under (the deepest), in container `c`. */
function mountOf(c: Obj, path: string): Obj | undefined {
  return (c['volumeMounts'] as Obj[])
    .filter((m) => path === m['mountPath'] || path.startsWith(m['mountPath'] + '/'))
    .sort((a, b) => b['mountPath'].length - a['mountPath'].length)[0];
}

const mib = (q: string): number => (q.endsWith('Mi') ? Number(q.slice(0, -2)) : q.endsWith('Gi') ? Number(q.slice(0, -2)) * 1024 : Number.NaN);

describe('deploy/kubernetes manifests', () => {
  it('every file is listed by a kustomization, and every object validates against the Kubernetes schema', () => {
    const listed = new Set<string>();
    for (const shape of SHAPES) {
      const k = parse(readFileSync(join(K8S, shape, 'kustomization.yaml'), 'utf8')) as Obj;
      for (const f of k['resources'] as string[]) listed.add(join(shape, f));
      for (const m of manifests(shape)) {
        const model = MODELS[`${m['apiVersion']}/${m['kind']}`];
        expect(model, `${shape}: ${m['apiVersion']} ${m['kind']}`).toBeDefined();
        expect(() => new model!(m).validate(), `${shape}/${m['kind']}/${m['metadata']?.['name']}`).not.toThrow();
      }
      // Image names the containers use are the ones the kustomization lets you set.
      const images = new Set((k['images'] as Obj[]).map((i) => i['name']));
      const spec = workload(shape)['spec']['template']['spec'];
      for (const c of [...(spec['initContainers'] ?? []), ...spec['containers']]) {
        expect(images.has(c['image']), `${shape}: image ${c['image']} in kustomization images`).toBe(true);
        for (const key of Object.keys(c)) expect(CONTAINER_KEYS.has(key), `${shape}: container key ${key}`).toBe(true);
      }
    }
    for (const shape of SHAPES) {
      for (const f of readdirSync(join(K8S, shape))) if (f !== 'kustomization.yaml') expect(listed.has(join(shape, f)), `${shape}/${f} listed`).toBe(true);
    }
    const top = parse(readFileSync(join(K8S, 'kustomization.yaml'), 'utf8')) as Obj;
    expect(top['resources']).toEqual(['sidecar']);
  });

  it('the sidecar is native (init container, restartPolicy Always) and follows the file the server writes, state on the same volume', () => {
    const w = workload('sidecar');
    const spec = w['spec']['template']['spec'];
    const router = routerContainer(w);
    expect(spec['initContainers']).toContain(router);
    expect(router['restartPolicy']).toBe('Always');
    const { described } = loadedConfig('sidecar');
    const [source] = described['sources'] as Obj[];
    expect(source).toMatchObject({ type: 'file' });
    const followed = source!['options']['paths'][0] as string;
    const server = (spec['containers'] as Obj[]).find((c) => c['name'] === 'mcp')!;
    expect((server['command'] as string[]).join(' ')).toContain(`2>>${followed}`);
    const shared = mountOf(router, followed)!;
    expect(mountOf(server, followed)!['name']).toBe(shared['name']);
    expect(mountOf(router, described['data_dir'])!['name']).toBe(shared['name']);
    const volume = (spec['volumes'] as Obj[]).find((v) => v['name'] === shared['name'])!;
    expect(volume['emptyDir']).toBeDefined();
    expect(described['kubernetes']).toMatchObject({ container: 'mcp' });
  });

  it('the node agent follows the kubelet logs of containers named mcp in CRI format, logs read-only, state on a hostPath', () => {
    const w = workload('node-agent');
    expect(w['kind']).toBe('DaemonSet');
    const router = routerContainer(w);
    const { described } = loadedConfig('node-agent');
    const [source] = described['sources'] as Obj[];
    expect(source!['options']).toMatchObject({ paths: ['/var/log/pods/*_*_*/mcp/*.log'], format: 'cri', streams: ['stderr'] });
    const logs = mountOf(router, '/var/log/pods/x_y_z/mcp/0.log')!;
    expect(logs['readOnly']).toBe(true);
    const volumes = w['spec']['template']['spec']['volumes'] as Obj[];
    expect(volumes.find((v) => v['name'] === logs['name'])!['hostPath']['path']).toBe('/var/log/pods');
    const state = mountOf(router, described['data_dir'])!;
    expect(state['readOnly']).not.toBe(true);
    expect(volumes.find((v) => v['name'] === state['name'])!['hostPath']).toMatchObject({ path: '/var/lib/audit-router', type: 'DirectoryOrCreate' });
  });

  it('for every shape: probes on the API port, writable paths on writable volumes, the key from a Secret, hardened, memory from the bench', () => {
    for (const shape of SHAPES) {
      const w = workload(shape);
      const podSpec = w['spec']['template']['spec'];
      const router = routerContainer(w);
      const { described } = loadedConfig(shape);
      const args = router['args'] as string[];
      const address = args[args.indexOf('--api-address') + 1]!;
      const port = Number(address.split(':').pop());
      const api = (router['ports'] as Obj[]).find((p) => p['name'] === 'api')!;
      expect(api['containerPort'], shape).toBe(port);
      expect(router['livenessProbe']['httpGet']).toEqual({ path: '/healthz', port: 'api' });
      expect(router['readinessProbe']['httpGet']).toEqual({ path: '/readyz', port: 'api' });
      // What the router writes: checkpoints, disk buffers, the dead letter, file sinks.
      const written: string[] = [];
      if (described['data_dir']) written.push(described['data_dir']);
      for (const s of described['sinks'] as Obj[]) {
        if (s['options']['buffer']?.['path']) written.push(s['options']['buffer']['path']);
        if (s['type'] === 'file') written.push(s['options']['path']);
      }
      if (described['dead_letter']) written.push(described['dead_letter']['options']['path']);
      expect(written.length, shape).toBeGreaterThan(0);
      for (const path of written) {
        const m = mountOf(router, path);
        expect(m, `${shape}: ${path} is on a volume (the root filesystem is read-only)`).toBeDefined();
        expect(m!['readOnly'], `${shape}: ${path} writable`).not.toBe(true);
      }
      const key = (router['env'] as Obj[]).find((e) => e['name'] === 'DD_API_KEY')!;
      expect(key['valueFrom']['secretKeyRef']).toMatchObject({ name: 'audit-router-datadog', key: 'api-key' });
      for (const c of [...(podSpec['initContainers'] ?? []), ...podSpec['containers']]) {
        expect(c['securityContext'], `${shape}/${c['name']}`).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      }
      if (shape !== 'node-agent') expect(podSpec['securityContext']).toMatchObject({ runAsNonRoot: true });
      // The limit is above the highest RSS the bench measured with a Datadog sink (281.6 MB).
      expect(mib(router['resources']['limits']['memory']) * 1.048576, shape).toBeGreaterThan(281.6);
      expect(mib(router['resources']['requests']['memory']) * 1.048576, shape).toBeGreaterThanOrEqual(211.1);
    }
  });
});

describe('README: "Run as a Kubernetes sidecar"', () => {
  it('the walk-through works as written: the example followed through a rename, every audit event kept', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Run as a Kubernetes sidecar'));
    const script = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
    const out = execFileSync('bash', ['-c', `${script}\necho "MCP_DIR=$MCP_DIR"`], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const mcpDir = /MCP_DIR=(.*)/.exec(out)![1]!;
    expect(existsSync(join(mcpDir, 'stderr.log.1'))).toBe(true);
    const followed = readFileSync(join(mcpDir, 'audit.jsonl'), 'utf8');
    // The same as the example through stdin.
    const direct = join(mcpDir, 'direct.jsonl');
    const r = await runRouter(['--file', direct, '--policy', 'examples/mcp-policy.toml'], {
      input: readFileSync(join(ROOT, 'examples', 'redisctl-mcp-stderr.log')),
      cwd: ROOT,
    });
    expect(r.code).toBe(0);
    expect(followed.split('\n').length).toBeGreaterThan(10);
    expect(followed).toBe(readFileSync(direct, 'utf8'));
    expect(Number(/(\d+)/.exec(out)![1])).toBe(followed.split('\n').filter(Boolean).length);
  });
});
