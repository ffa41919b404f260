# Fills the lab's OpenStack, through its APIs (openstacksdk, one process: the openstack CLI costs seconds per call).
#   bootstrap.py catalog   < plan.json   service project, users and endpoints; the operator's project and user
#   bootstrap.py resources < plan.json   flavor, image, network and subnet; quotas (a second project: 1 server);
#                                        the operator's Octavia load balancers, each with a listener and a pool
#   bootstrap.py discover  < plan.json   waits until the fake compute host is in a cell and in Placement
# plan.json is written by src/lab/openstack.ts; it holds the lab's generated passwords and never leaves the lab folder.
import json
import sys
import time

import openstack

plan = json.load(sys.stdin)
phase = sys.argv[1]


def admin():
    return openstack.connect(auth_url=plan['authUrl'], username='admin', password=plan['adminPassword'], project_name='admin',
                             user_domain_name='Default', project_domain_name='Default', region_name=plan['region'], identity_interface='public')


def ensure(finder, creator, name, **attrs):
    found = finder(name)
    return found if found else creator(name=name, **attrs)


if phase == 'catalog':
    c = admin()
    idn = c.identity
    default = idn.find_domain('Default')
    service = ensure(idn.find_project, idn.create_project, 'service', domain_id=default.id)
    admin_role = idn.find_role('admin')
    member = idn.find_role('member')
    roles = {r: ensure(idn.find_role, idn.create_role, r) for r in ['load-balancer_member', 'load-balancer_observer']}
    for svc in plan['services']:
        user = idn.find_user(svc['user'], domain_id=default.id)
        if user:
            idn.update_user(user, password=svc['password'])
        else:
            user = idn.create_user(name=svc['user'], password=svc['password'], domain_id=default.id, default_project_id=service.id)
        idn.assign_project_role_to_user(service, user, admin_role)
        # Octavia's worker and others ask Keystone for their service role on every call; the service role is admin here.
        s = idn.find_service(svc['name']) or idn.create_service(name=svc['name'], type=svc['type'])
        have = {(e.interface) for e in idn.endpoints(service_id=s.id)}
        for iface in ['public', 'internal', 'admin']:
            if iface not in have:
                idn.create_endpoint(service_id=s.id, interface=iface, url=svc['url'], region_id=plan['region'])
    for p in plan['projects']:
        project = ensure(idn.find_project, idn.create_project, p, domain_id=default.id)
        user = idn.find_user(plan['username'], domain_id=default.id)
        if user:
            idn.update_user(user, password=plan['password'])
        else:
            user = idn.create_user(name=plan['username'], password=plan['password'], domain_id=default.id, default_project_id=project.id)
        for role in [member, roles['load-balancer_member']]:
            idn.assign_project_role_to_user(project, user, role)
    print('catalog ready')

elif phase == 'resources':
    c = admin()
    projects = {p: c.identity.find_project(p) for p in plan['projects']}
    f = plan['flavor']
    if not c.compute.find_flavor(f['name']):
        c.compute.create_flavor(name=f['name'], ram=f['ram'], vcpus=f['vcpus'], disk=f['disk'], is_public=True)
    img = plan['image']
    if not c.image.find_image(img):
        c.image.create_image(name=img, data=b'\0' * 1024, disk_format='raw', container_format='bare', visibility='public', wait=True)
    n = plan['network']
    net = c.network.find_network(n['name'])
    if not net:
        net = c.network.create_network(name=n['name'], shared=True, provider_network_type='local')
    if not list(c.network.subnets(network_id=net.id)):
        # Addresses in Neutron's database only: nothing listens on them, and nothing may send traffic to them.
        c.network.create_subnet(name=n['name'] + '-subnet', network_id=net.id, ip_version=4, cidr=n['cidr'], enable_dhcp=False)
    for p, limits in plan['quotas'].items():
        c.set_compute_quotas(projects[p].id, **limits)
    # The operator's load balancers, made as the operator: Octavia's noop drivers give the VIP a fake address and
    # never send traffic anywhere.
    u = openstack.connect(auth_url=plan['authUrl'], username=plan['username'], password=plan['password'], project_name=plan['projects'][0],
                          user_domain_name='Default', project_domain_name='Default', region_name=plan['region'])
    lbs = u.load_balancer
    for b in plan['loadBalancers']:
        lb = lbs.find_load_balancer(b['name'])
        if not lb:
            lb = lbs.create_load_balancer(name=b['name'], vip_network_id=net.id)
        lbs.wait_for_load_balancer(lb.id, status='ACTIVE', failures=['ERROR'], interval=1, wait=180)
        listener = lbs.find_listener(b['name'] + '-http')
        if not listener:
            listener = lbs.create_listener(name=b['name'] + '-http', protocol='HTTP', protocol_port=80, load_balancer_id=lb.id)
            lbs.wait_for_load_balancer(lb.id, status='ACTIVE', failures=['ERROR'], interval=1, wait=180)
        if not lbs.find_pool(b['pool']):
            lbs.create_pool(name=b['pool'], protocol='HTTP', lb_algorithm='ROUND_ROBIN', listener_id=listener.id)
            lbs.wait_for_load_balancer(lb.id, status='ACTIVE', failures=['ERROR'], interval=1, wait=180)
    print('resources ready')

elif phase == 'discover':
    c = admin()
    deadline = time.time() + float(plan.get('discoverTimeout', 120))
    while True:
        hypervisors = list(c.compute.hypervisors())
        if hypervisors and any(h.status == 'enabled' and h.state == 'up' for h in hypervisors):
            rps = list(c.placement.resource_providers())
            if rps:
                print('compute discovered:', ', '.join(h.name for h in hypervisors))
                break
        if time.time() > deadline:
            raise SystemExit('the fake compute host was not discovered in time: see nova-compute.log and nova-scheduler.log')
        time.sleep(1)
else:
    raise SystemExit(f'unknown phase {phase}')
