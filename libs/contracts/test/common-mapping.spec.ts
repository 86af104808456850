import { common, mapping } from '@spillway/contracts';

describe('common enum mappings', () => {
  it.each(['system', 'user', 'assistant', 'tool'] as const)(
    'role %s survives a round trip',
    (role) => {
      expect(mapping.roleFromProto(mapping.roleToProto(role))).toBe(role);
    },
  );

  it.each(['batch', 'low', 'standard', 'high', 'critical'] as const)(
    'priority %s survives a round trip',
    (priority) => {
      expect(mapping.priorityFromProto(mapping.priorityToProto(priority))).toBe(priority);
    },
  );

  it.each(['stop', 'length', 'cancelled', 'error'] as const)(
    'finish reason %s survives a round trip',
    (reason) => {
      expect(mapping.finishReasonFromProto(mapping.finishReasonToProto(reason))).toBe(reason);
    },
  );

  it('maps every wire value to a distinct name', () => {
    const roles = Object.values(common.Role).filter((value) => typeof value === 'number');
    const names = roles.map((role) => mapping.roleFromProto(role));
    expect(names.filter((name) => name !== undefined)).toHaveLength(roles.length - 1);
    expect(new Set(names).size).toBe(roles.length);
  });

  it('reads unspecified and unknown wire numbers as "not set", never throwing', () => {
    expect(mapping.roleFromProto(common.Role.ROLE_UNSPECIFIED)).toBeUndefined();
    expect(mapping.roleFromProto(99 as common.Role)).toBeUndefined();
    expect(
      mapping.finishReasonFromProto(common.FinishReason.FINISH_REASON_UNSPECIFIED),
    ).toBeUndefined();
    expect(mapping.finishReasonFromProto(42 as common.FinishReason)).toBeUndefined();
    expect(mapping.priorityFromProto(common.Priority.PRIORITY_UNSPECIFIED)).toBe('standard');
    expect(mapping.priorityFromProto(7 as common.Priority)).toBe('standard');
  });

  it('keeps only the sampling parameters that were set', () => {
    const wire = mapping.samplingToProto({ temperature: 0.2, stop: ['\n'], seed: 7 });
    expect(wire).toEqual(
      common.SamplingParams.fromPartial({ temperature: 0.2, stop: ['\n'], seed: 7 }),
    );
    expect(mapping.samplingFromProto(wire)).toEqual({ temperature: 0.2, stop: ['\n'], seed: 7 });
    expect(mapping.samplingFromProto(undefined)).toEqual({});
    expect(mapping.samplingFromProto(common.SamplingParams.fromPartial({}))).toEqual({});
  });

  it('counts a missing usage as zero tokens', () => {
    expect(mapping.usageFromProto(undefined)).toEqual({
      promptTokens: 0,
      completionTokens: 0,
      totalTokens: 0,
      cachedPromptTokens: 0,
    });
  });
});

describe('a role the caller must set', () => {
  it('names the field when the role is unspecified or unknown', () => {
    let refusal: unknown;
    try {
      mapping.requiredRoleFromProto(common.Role.ROLE_UNSPECIFIED, 'messages[2].role');
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toMatchObject({
      code: 'REQUEST.INVALID',
      message:
        'messages[2].role is not set; use ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT or ROLE_TOOL',
      details: { field: 'messages[2].role' },
    });
    expect(() => mapping.requiredRoleFromProto(9 as common.Role, 'messages[0].role')).toThrow(
      'messages[0].role 9 is not a known role',
    );
    expect(mapping.requiredRoleFromProto(common.Role.ROLE_TOOL, 'messages[0].role')).toBe('tool');
  });
});
