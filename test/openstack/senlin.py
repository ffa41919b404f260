# A real Senlin cluster on the lab, built and read with openstacksdk as the project's user (Senlin's objects are the
# project's), for the import tests; never through poolpilot.
#   senlin.py build <name> <desired> <pool> <port>   profile, two scaling policies, deletion, load-balancing and
#                                                    health policies, a webhook receiver, the cluster ACTIVE; JSON
#   senlin.py show <name>                           the cluster's status, desired capacity, nodes and policies; JSON
#   senlin.py delete <name>                         the cluster (its nodes), its receivers, policies and profile
#   senlin.py pool <name>                           an Octavia pool's id (a load-balancing policy names pools by id)
# The user's access comes as JSON on stdin.
import json
import sys
import time

import openstack

a = json.load(sys.stdin)
c = openstack.connect(auth_url=a['authUrl'], username=a['username'], password=a['password'], project_name=a['projectName'],
                      user_domain_name=a['userDomainName'], project_domain_name=a['projectDomainName'], region_name=a['region'])
cl = c.clustering
cmd, name = sys.argv[1], sys.argv[2]


def wait_action(action_id, timeout=180):
    deadline = time.time() + timeout
    while True:
        act = cl.get_action(action_id)
        if act.status == 'SUCCEEDED':
            return
        if act.status in ('FAILED', 'CANCELLED'):
            raise SystemExit(f'Senlin action {action_id} ({act.action}) {act.status}: {act.status_reason}')
        if time.time() > deadline:
            raise SystemExit(f'Senlin action {action_id} ({act.action}) still {act.status} after {timeout} s')
        time.sleep(0.5)


def action_id(res):
    # openstacksdk returns the action as {'action': id} or an object with a location.
    if isinstance(res, dict):
        return res.get('action') or res['location'].rstrip('/').split('/')[-1]
    return getattr(res, 'id', None) or res.location.rstrip('/').split('/')[-1]


if cmd == 'build':
    desired, pool_name, port = int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    pool = c.load_balancer.find_pool(pool_name, ignore_missing=False)
    lb_id = c.load_balancer.get_listener(pool.listeners[0]['id']).load_balancers[0]['id']
    profile = cl.create_profile(name=f'{name}-profile', spec={
        'type': 'os.nova.server', 'version': '1.0',
        'properties': {'flavor': 'm1.tiny', 'image': 'tiny', 'networks': [{'network': 'private'}], 'metadata': {'app': name}},
    })
    specs = {
        'out': {'type': 'senlin.policy.scaling', 'version': '1.0', 'properties': {
            'event': 'CLUSTER_SCALE_OUT', 'adjustment': {'type': 'CHANGE_IN_CAPACITY', 'number': 2, 'min_step': 1, 'best_effort': True, 'cooldown': 120}}},
        'in': {'type': 'senlin.policy.scaling', 'version': '1.0', 'properties': {
            'event': 'CLUSTER_SCALE_IN', 'adjustment': {'type': 'CHANGE_IN_CAPACITY', 'number': 1, 'cooldown': 300}}},
        'del': {'type': 'senlin.policy.deletion', 'version': '1.1', 'properties': {
            'criteria': 'OLDEST_FIRST', 'destroy_after_deletion': True, 'grace_period': 20, 'reduce_desired_capacity': True}},
        'lb': {'type': 'senlin.policy.loadbalance', 'version': '1.1', 'properties': {
            'loadbalancer': lb_id,
            'pool': {'id': pool.id, 'protocol': 'HTTP', 'protocol_port': port, 'subnet': 'private-subnet', 'lb_method': 'ROUND_ROBIN'},
            'vip': {'subnet': 'private-subnet', 'protocol': 'HTTP', 'protocol_port': 80}}},
        'health': {'type': 'senlin.policy.health', 'version': '1.1', 'properties': {
            'detection': {'interval': 60, 'detection_modes': [{'type': 'NODE_STATUS_POLLING'}]},
            'recovery': {'actions': [{'name': 'RECREATE'}]}}},
    }
    policies = {k: cl.create_policy(name=f'{name}-{k}', spec=s) for k, s in specs.items()}
    cluster = cl.create_cluster(name=name, profile_id=profile.id, min_size=1, max_size=5, desired_capacity=desired)
    deadline = time.time() + 180
    while cl.get_cluster(cluster.id).status != 'ACTIVE':
        if time.time() > deadline or cl.get_cluster(cluster.id).status == 'ERROR':
            raise SystemExit(f'cluster {name}: {cl.get_cluster(cluster.id).status_reason}')
        time.sleep(0.5)
    # One attach at a time: Senlin locks the cluster for each.
    for p in policies.values():
        wait_action(action_id(cl.attach_policy_to_cluster(cluster.id, p.id, enabled=True)))
    receiver = cl.create_receiver(name=f'{name}-out', cluster_id=cluster.id, action='CLUSTER_SCALE_OUT', type='webhook')
    print(json.dumps({'cluster': cluster.id, 'profile': profile.id, 'policies': {k: p.id for k, p in policies.items()},
                      'receiver': receiver.id, 'webhook': receiver.channel.get('alarm_url')}))
elif cmd == 'show':
    cluster = cl.find_cluster(name)
    if not cluster:
        print(json.dumps(None))
    else:
        cluster = cl.get_cluster(cluster.id)
        nodes = [{'name': n.name, 'status': n.status, 'server': n.physical_id} for n in cl.nodes(cluster_id=cluster.id)]
        bindings = [b.policy_name for b in cl.cluster_policies(cluster.id)]
        print(json.dumps({'status': cluster.status, 'desired': cluster.desired_capacity, 'min': cluster.min_size,
                          'nodes': sorted(nodes, key=lambda n: n['name']), 'policies': sorted(bindings)}))
elif cmd == 'delete':
    cluster = cl.find_cluster(name)
    for r in cl.receivers():
        if r.name.startswith(f'{name}-'):
            cl.delete_receiver(r.id)
    if cluster:
        for b in list(cl.cluster_policies(cluster.id)):
            wait_action(action_id(cl.detach_policy_from_cluster(cluster.id, b.policy_id)))
        cl.delete_cluster(cluster.id)
        deadline = time.time() + 180
        while cl.find_cluster(cluster.id) and time.time() < deadline:
            time.sleep(0.5)
    for p in cl.policies():
        if p.name.startswith(f'{name}-'):
            cl.delete_policy(p.id)
    # The profile stays while orphan nodes (left by an adoption) use it: deleting those would delete poolpilot's servers.
    prof = cl.find_profile(f'{name}-profile')
    if prof and not list(cl.nodes(profile_id=prof.id)):
        cl.delete_profile(prof.id)
    print('deleted')
elif cmd == 'pool':
    print(json.dumps(c.load_balancer.find_pool(name, ignore_missing=False).id))
else:
    raise SystemExit(f'unknown command {cmd}')
