// Static addresses from a pool: the lowest free one, none when all are held; the range and mask forms.
import { hostnameFor, ipPoolSchema, prefixToNetmask } from '../../src/config/vsphere-fields';
import { chooseAddress, poolSize } from '../../src/policy/address-pool';
import { linuxCustomizationXml } from '../../src/activities/compute/vsphere-customization';

const pool = ipPoolSchema.parse({ range: '10.0.8.254-10.0.9.1', gateway: '10.0.8.1', dns: ['10.0.0.2', '10.0.0.3'] });

const cases: [string, string[], string | undefined][] = [
  ['nothing held: the first', [], '10.0.8.254'],
  ['the first held: the next, across the octet', ['10.0.8.254', '10.0.8.255'], '10.0.9.0'],
  ['a hole below held ones is taken first', ['10.0.8.255', '10.0.9.0'], '10.0.8.254'],
  ['addresses outside the range do not count', ['10.0.8.253', '10.0.9.2'], '10.0.8.254'],
  ['all held: none', ['10.0.8.254', '10.0.8.255', '10.0.9.0', '10.0.9.1'], undefined],
];
test.each(cases)('%s', (_what, held, want) => {
  expect(chooseAddress(pool, new Set(held))).toBe(want);
});

test('a pool counts both ends; a /8 with a few held is as quick as a small one', () => {
  expect(poolSize(pool)).toBe(4);
  const big = ipPoolSchema.parse({ range: '10.0.0.0-10.255.255.255' });
  expect(poolSize(big)).toBe(2 ** 24);
  expect(chooseAddress(big, new Set(['10.0.0.0', '10.0.0.1']))).toBe('10.0.0.2');
});

test('defaults, masks and hostnames', () => {
  expect(pool).toMatchObject({ prefix: 24, range: { text: '10.0.8.254-10.0.9.1' } });
  expect([0, 8, 20, 24, 31, 32].map(prefixToNetmask)).toEqual(['0.0.0.0', '255.0.0.0', '255.255.240.0', '255.255.255.0', '255.255.255.254', '255.255.255.255']);
  expect(hostnameFor('{name}-web', 'web-3-1')).toBe('web-3-1-web');
  expect(hostnameFor(undefined, 'web-3-1')).toBe('web-3-1');
});

test("poolpilot's own spec in vSphere's order: Linux prep, the fixed address, its mask, gateway and DNS; DHCP without an address", () => {
  expect(linuxCustomizationXml({ hostname: 'web-3-1', domain: 'example.com', address: '10.0.8.254', pool })).toBe(
    '<options xsi:type="CustomizationLinuxOptions"/>' +
      '<identity xsi:type="CustomizationLinuxPrep"><hostName xsi:type="CustomizationFixedName"><name>web-3-1</name></hostName><domain>example.com</domain></identity>' +
      '<globalIPSettings><dnsServerList>10.0.0.2</dnsServerList><dnsServerList>10.0.0.3</dnsServerList></globalIPSettings>' +
      '<nicSettingMap><adapter><ip xsi:type="CustomizationFixedIp"><ipAddress>10.0.8.254</ipAddress></ip><subnetMask>255.255.255.0</subnetMask><gateway>10.0.8.1</gateway>' +
      '<dnsServerList>10.0.0.2</dnsServerList><dnsServerList>10.0.0.3</dnsServerList></adapter></nicSettingMap>',
  );
  expect(linuxCustomizationXml({ hostname: 'h', domain: 'd' })).toContain('<adapter><ip xsi:type="CustomizationDhcpIpGenerator"/></adapter>');
});
