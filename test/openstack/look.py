# The tests' own eyes on the lab's OpenStack: openstacksdk as the cloud's admin, not poolpilot's client.
#   look.py servers <prefix>        every server (all projects) whose name starts with prefix, as JSON
#   look.py members <pool>          the members of an Octavia pool, as JSON
#   look.py revoke <user> <password> revokes every token of the user: its password is set again (to the same one)
#   look.py token <user> <password> <project>   a token of that user, for a test to check its revocation
#   look.py error <server id>       puts a server in ERROR (Nova's admin os-resetState), as a failed host would
# The admin's access comes as JSON on stdin.
import json
import sys

import openstack

a = json.load(sys.stdin)
c = openstack.connect(auth_url=a['authUrl'], username=a['username'], password=a['password'], project_name=a['projectName'],
                      user_domain_name=a['userDomainName'], project_domain_name=a['projectDomainName'], region_name=a['region'])
cmd = sys.argv[1]
if cmd == 'servers':
    out = [{'name': s.name, 'id': s.id, 'status': s.status, 'project': s.project_id, 'metadata': s.metadata,
            'addresses': {n: [x['addr'] for x in v] for n, v in (s.addresses or {}).items()}}
           for s in c.compute.servers(details=True, all_projects=True) if s.name.startswith(sys.argv[2])]
    print(json.dumps(sorted(out, key=lambda s: s['name'])))
elif cmd == 'members':
    pool = c.load_balancer.find_pool(sys.argv[2], ignore_missing=False)
    out = [{'name': m.name, 'address': m.address, 'port': m.protocol_port, 'weight': m.weight,
            'provisioning_status': m.provisioning_status, 'operating_status': m.operating_status}
           for m in c.load_balancer.members(pool)]
    print(json.dumps(sorted(out, key=lambda m: m['name'] or '')))
elif cmd == 'revoke':
    # Keystone revokes a user's tokens when its password is changed.
    idn = c.identity
    user = idn.find_user(sys.argv[2], domain_id='default', ignore_missing=False)
    idn.update_user(user, password=sys.argv[3])
    print('revoked')
elif cmd == 'token':
    u = openstack.connect(auth_url=a['authUrl'], username=sys.argv[2], password=sys.argv[3], project_name=sys.argv[4],
                          user_domain_name='Default', project_domain_name='Default', region_name=a['region'])
    print(u.auth_token)
elif cmd == 'error':
    c.compute.reset_server_state(sys.argv[2], 'error')
    print('error')
else:
    raise SystemExit(f'unknown command {cmd}')
