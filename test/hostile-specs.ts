// Hostile and broken cluster specs, one family at a time, shared by the CLI's tests and the API's: each is refused with
// one message naming what is wrong (the pattern), whoever receives it.

type Plain = Record<string, unknown>;

/** Nested `depth` levels of lists, as text: "[[[…]]]". */
export const nestedFlow = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** A value nested `depth` levels of maps, built without recursion. */
export function nestedValue(depth: number): Plain {
  const top: Plain = {};
  let at = top;
  for (let i = 0; i < depth; i++) at = at.a = {};
  return top;
}

/** Text specs (as in a file or a YAML body): [name, text, message pattern]. */
export function hostileTexts(valid: Plain): [string, string, RegExp][] {
  const json = JSON.stringify(valid);
  return [
    ['truncated JSON', json.slice(0, Math.floor(json.length / 2)), /not valid YAML or JSON/],
    ['a YAML duplicate key', 'name: a\nname: b\n', /duplicate key "name" at line 2: a key may appear once in each map/],
    ['20,000 levels of flow lists', `name: deep\nmin: ${nestedFlow(20_000)}\n`, /nested more than 32 levels deep/],
    ['20,000 levels of JSON maps (80 KB)', `{"name":"deep","vsphere":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_001)}`, /nested more than 32 levels deep/],
    ['an alias bomb', `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n`, /not valid YAML or JSON|more than 20000 values/],
    ['not a map', '- 1\n- 2\n', /expected object/],
    ['an empty file', '', /expected object/],
  ];
}

/** Parsed specs (as a JSON body, or a file's content): [name, value, message pattern], each a variant of `valid`. */
export function hostileValues(valid: Plain): [string, unknown, RegExp][] {
  const vs = valid.vsphere as Plain;
  const lb = valid.loadBalancer as Plain;
  const hook = { name: 'h', on: 'launch', url: 'http://127.0.0.1:9/hook' };
  return [
    // 10 MB as JSON: over the size limit (an API body gets 413).
    ['155,000 hooks', { ...valid, hooks: Array.from({ length: 155_000 }, (_, i) => ({ ...hook, name: `h${i}` })) }, /over the limit of 1048576|more than 20000 values in all/],
    ['5,000 hooks (under 1 MB)', { ...valid, hooks: Array.from({ length: 5_000 }, (_, i) => ({ ...hook, name: `h${i}` })) }, /more than 20000 values in all/],
    ['21 hooks', { ...valid, hooks: Array.from({ length: 21 }, (_, i) => ({ ...hook, name: `h${i}` })) }, /hooks: at most 20 hooks/],
    ['51 schedules', { ...valid, schedules: Array.from({ length: 51 }, (_, i) => ({ name: `s${i}`, cron: '0 8 * * *', min: 1 })) }, /schedules: at most 50 schedules/],
    ['a 100,000-character template path', { ...valid, vsphere: { ...vs, template: 'x'.repeat(100_000) } }, /vsphere\.template: a string of 100000 characters, over the limit of 16384/],
    ['unicode in the name', { ...valid, name: 'wéb💥' }, /name: /],
    ['a name with a newline', { ...valid, name: 'web\nrm -rf' }, /name: /],
    ['min as a string', { ...valid, min: '1' }, /min: /],
    ['max below min', { ...valid, min: 3, max: 1 }, /min: min 3 is above max 1/],
    ['vsphere as a number', { ...valid, vsphere: 5 }, /vsphere: /],
    ['an unknown vsphere field', { ...valid, vsphere: { ...vs, pasword: 'x' } }, /vsphere: unknown key "pasword"/],
    ['a loadBalancer of two kinds', { ...valid, loadBalancer: { ...lb, avi: { controller: 'https://127.0.0.1:1', credentialRef: 'a', pool: 'p' } } }, /loadBalancer/],
    ['metrics as a map', { ...valid, metrics: { a: 1 } }, /metrics: /],
    ['a metric target that is not a number', { ...valid, metrics: [{ name: 'm', source: { haproxy: {} }, target: { value: 'lots' } }] }, /metrics\.0\.target\.value: /],
    ['a negative poll interval', { ...valid, autoscaling: { pollInterval: -5 } }, /autoscaling\.pollInterval: -5 is negative: a duration is 0 or more/],
    ['a negative duration as text', { ...valid, autoscaling: { scaleOutCooldown: '-5s' } }, /autoscaling\.scaleOutCooldown: "-5s" is negative: a duration is 0 or more/],
    ['a duration that is not one', { ...valid, autoscaling: { scaleOutCooldown: 'soon' } }, /autoscaling\.scaleOutCooldown: "soon" is not a duration/],
    ['a missing required field', Object.fromEntries(Object.entries(valid).filter(([k]) => k !== 'name')), /name: required/],
    ['a misspelt field', { ...Object.fromEntries(Object.entries(valid).filter(([k]) => k !== 'min')), mni: 1 }, /unknown key "mni" \(did you mean "min"\?\)/],
    ['a backoff above its cap', { ...valid, autoscaling: { failureBackoff: { initial: '10m', max: '1m' } } }, /autoscaling\.failureBackoff\.initial: initial must be at least 1s and at most max/],
    ['health as a list', { ...valid, health: [] }, /health: /],
    ['a negative warm pool', { ...valid, warmPool: { size: -1 } }, /warmPool\.size: /],
    ['a hook with spaces in its name', { ...valid, hooks: [{ ...hook, name: 'a b' }] }, /hooks\.0\.name: must be a short name/],
    ['a schedule without a cron', { ...valid, schedules: [{ name: 's', min: 1 }] }, /schedules\.0\.cron: /],
    ['prediction as a number', { ...valid, prediction: 7 }, /prediction: /],
    ['an unknown top-level field', { ...valid, replicas: 3 }, /\(top level\): unknown key "replicas"$/m],
    ['a free-space floor in decimal units', { ...valid, vsphere: { ...vs, placement: { minFreeSpace: '20 GB' } } }, /vsphere\.placement\.minFreeSpace: must be a size such as 20GiB or 512MiB/],
    ['placement by hosts and by cluster at once', { ...valid, vsphere: { ...vs, placement: { hosts: ['/DC0/host/C0/H0'], cluster: '/DC0/host/C0' } } }, /vsphere\.placement\.cluster: give hosts or cluster, not both/],
    ['a placement spread that is not one', { ...valid, vsphere: { ...vs, placement: { spread: 'racks' } } }, /vsphere\.placement\.spread: /],
    ['an address range backwards', { ...valid, vsphere: { ...vs, customization: { ipPool: { range: '10.0.8.20-10.0.8.5' } } } }, /vsphere\.customization\.ipPool\.range: starts after it ends: 10\.0\.8\.20 is above 10\.0\.8\.5/],
    ['an address range of one address', { ...valid, vsphere: { ...vs, customization: { ipPool: { range: '10.0.8.20' } } } }, /vsphere\.customization\.ipPool\.range: must be FIRST-LAST, two IPv4 addresses/],
    ['an address that is not one', { ...valid, vsphere: { ...vs, customization: { ipPool: { range: '10.0.8.2-10.0.8.9', gateway: '10.0.8.256' } } } }, /vsphere\.customization\.ipPool\.gateway: must be an IPv4 address/],
    ['a hostname pattern without {name}', { ...valid, vsphere: { ...vs, customization: { hostnamePattern: 'web' } } }, /vsphere\.customization\.hostnamePattern: must contain \{name\}/],
    ['a hostname pattern that makes no hostname', { ...valid, vsphere: { ...vs, customization: { hostnamePattern: '{name}_x' } } }, /vsphere\.customization\.hostnamePattern: must make a hostname/],
    ['a stored spec and an address pool at once', { ...valid, vsphere: { ...vs, customization: { spec: 'linux', ipPool: { range: '10.0.8.2-10.0.8.9' } } } }, /vsphere\.customization\.spec: give a stored spec, or hostnamePattern\/domain\/ipPool, not both/],
    ['an empty customization', { ...valid, vsphere: { ...vs, customization: {} } }, /vsphere\.customization: give spec/],
    ['customization in both spellings', { ...valid, vsphere: { ...vs, customization: { spec: 'a' }, customizationSpec: 'b' } }, /vsphere\.customizationSpec: give customization or customizationSpec/],
  ];
}
