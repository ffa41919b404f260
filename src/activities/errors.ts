// Permanent faults: non-retryable ApplicationFailures with a stable type, so they reach the operator at once.
import { ApplicationFailure } from '@temporalio/common';

export const FaultType = {
  TemplateNotFound: 'TemplateNotFound',
  InventoryNotFound: 'InventoryNotFound',
  BadCredentials: 'BadCredentials',
  CredentialMissing: 'CredentialMissing',
  InvalidSpec: 'InvalidSpec',
  BackendNotFound: 'BackendNotFound',
  GuestTimeout: 'GuestTimeout',
  HealthTimeout: 'HealthTimeout',
  TenantNotFound: 'TenantNotFound',
  Forbidden: 'Forbidden',
  /** The project's quota refuses one more server: retried with backoff (deletes or a raised quota mend it). */
  QuotaExceeded: 'QuotaExceeded',
  /** A server went to ERROR (Nova's fault message says why); the run compensates by deleting it. */
  ServerError: 'ServerError',
  /** A VM named like a member that does not carry this cluster's mark: never adopted or destroyed. */
  NotOurs: 'NotOurs',
  /** vsphere.placement leaves no host or datastore that can take a clone now (maintenance, free space): named. */
  NoPlacement: 'NoPlacement',
  /** customization.ipPool has no address free for one more VM: refused before the clone, so nothing is made. */
  AddressPoolExhausted: 'AddressPoolExhausted',
} as const;

export function permanent(type: keyof typeof FaultType, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}
