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
} as const;

export function permanent(type: keyof typeof FaultType, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}
