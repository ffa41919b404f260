// The CustomizationSpec poolpilot writes itself (customization: { hostnamePattern, ipPool }): Linux, one NIC, a fixed
// hostname and a static address from the pool or DHCP. Elements in the schema's order (vCenter reads them so).
import { prefixToNetmask, type IpPool } from '../../config/vsphere-fields';
import { el } from './vim';

export interface LinuxIdentity {
  hostname: string;
  domain: string;
  /** The address from the pool; absent: DHCP. */
  address?: string;
  pool?: IpPool;
}

export function linuxCustomizationXml(id: LinuxIdentity): string {
  const ip = id.address ? `<ip xsi:type="CustomizationFixedIp">${el('ipAddress', id.address)}</ip>` : '<ip xsi:type="CustomizationDhcpIpGenerator"/>';
  const mask = id.address && id.pool ? el('subnetMask', prefixToNetmask(id.pool.prefix)) : '';
  const gateway = id.address && id.pool?.gateway ? el('gateway', id.pool.gateway) : '';
  const dns = (id.pool?.dns ?? []).map((d) => el('dnsServerList', d)).join('');
  return (
    '<options xsi:type="CustomizationLinuxOptions"/>' +
    `<identity xsi:type="CustomizationLinuxPrep"><hostName xsi:type="CustomizationFixedName">${el('name', id.hostname)}</hostName>${el('domain', id.domain)}</identity>` +
    `<globalIPSettings>${dns}</globalIPSettings>` +
    `<nicSettingMap><adapter>${ip}${mask}${gateway}${dns}</adapter></nicSettingMap>`
  );
}
