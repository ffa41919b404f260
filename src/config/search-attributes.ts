// The search attributes poolpilot sets on its runs (pure: workflows import it). The lab registers them;
// on another cluster: temporal operator search-attribute create --name PoolpilotCluster --type Keyword (and PoolpilotOperation).
import { defineSearchAttributeKey } from '@temporalio/common';

export const SEARCH_ATTRIBUTES = { cluster: 'PoolpilotCluster', operation: 'PoolpilotOperation' } as const;
export const CLUSTER_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.cluster, 'KEYWORD');
export const OPERATION_KEY = defineSearchAttributeKey(SEARCH_ATTRIBUTES.operation, 'KEYWORD');
