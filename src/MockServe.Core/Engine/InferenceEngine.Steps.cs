using MockServe.Core.Sessions;

namespace MockServe.Core.Engine;

/// <summary>The step loop: plan, price and schedule a step; at its end emit its tokens and finish what is done.</summary>
public sealed partial class InferenceEngine
{
    private void TryStartStep()
    {
        if (_stepInFlight)
        {
            return;
        }

        var plan = _plan;
        plan.Clear();
        _policy.Plan(this, plan);
        if (plan.IsEmpty)
        {
            return;
        }

        double start = Now;
        plan.Start = start;
        double cursor = start;
        foreach (var (sessionId, seq, bytes) in plan.SwapOuts)
        {
            double duration = CostModel.SwapSeconds(bytes);
            Notify(new EngineEvent(cursor, EngineEventKind.SwapOut, seq?.Request, sessionId, Bytes: bytes, Duration: duration));
            cursor += duration;
        }

        foreach (var (seq, bytes) in plan.SwapIns)
        {
            double duration = CostModel.SwapSeconds(bytes);
            Notify(new EngineEvent(cursor, EngineEventKind.SwapInStart, seq.Request, seq.Request.SessionId, Bytes: bytes, Duration: duration));
            cursor += duration;
            seq.SwapInSeconds += duration;
            Notify(new EngineEvent(cursor, EngineEventKind.SwapInEnd, seq.Request, seq.Request.SessionId, Bytes: bytes, Duration: duration));
        }

        plan.SwapSeconds = cursor - start;
        plan.ComputeSeconds = CostModel.StepSeconds(plan.Cost);
        plan.HostOnlySeconds = plan.ComputeSeconds - CostModel.GpuStepSeconds(plan.Cost);
        _stepInFlight = true;
        // The step ends when the model says, however late a real timer fires: the clock runs it at that time.
        _clock.Schedule(cursor + plan.ComputeSeconds, _onStepEnd);
    }

    private void OnStepEnd(double at)
    {
        var plan = _plan;
        foreach (var (seq, tokens) in plan.Prefills)
        {
            if (seq.State != SequenceState.Running)
            {
                continue;
            }

            seq.KvTokens += tokens;
            seq.PrefillSeconds += plan.ComputeSeconds;
            Emit(EngineEventKind.PrefillChunk, seq, count: tokens);
            if (seq.KvTokens >= seq.PrefillTarget)
            {
                if (seq.Prefix is not null)
                {
                    CachePrompt(seq);
                }

                EmitToken(seq);
            }
        }

        foreach (var seq in plan.Decodes)
        {
            if (seq.State == SequenceState.Running)
            {
                EmitToken(seq);
            }
        }

        var step = new StepSummary(
            plan.Start, at, plan.Decodes.Count, plan.PrefillTokens, plan.SwapSeconds, plan.ComputeSeconds, _running.Count, _waiting.Count, plan.HostOnlySeconds, plan.DecodeKvTokens);
        try
        {
            _observer.OnStep(step);
        }
        catch (Exception ex)
        {
            Fault(ex);
        }

        _stepInFlight = false;
        Reap();
        TryStartStep();
    }

    private void EmitToken(Sequence seq)
    {
        double now = Now;
        double gap = now - seq.LastTokenTime;
        seq.LastTokenTime = now;
        seq.Generated++;
        if (seq.Generated == 1)
        {
            seq.FirstTokenTime = now;
        }

        seq.Handle.WriteToken(now, seq.Generated);
        Notify(new EngineEvent(now, EngineEventKind.Token, seq.Request, seq.Request.SessionId, seq.Generated, Gap: gap));
        if (seq.Generated >= seq.Target)
        {
            Finish(seq, seq.TargetReason);
        }
    }

    private void Finish(Sequence seq, FinishReason reason)
    {
        double now = Now;
        switch (seq.State)
        {
            case SequenceState.Waiting:
                _waiting.Remove(seq.QueueNode!);
                break;
            case SequenceState.Swapped:
                _swapped.Remove(seq.QueueNode!);
                break;
            case SequenceState.Running:
                _running.Remove(seq);
                break;
        }

        seq.QueueNode = null;
        seq.State = SequenceState.Done;
        _requests.Remove(seq.Request.RequestId);
        _kv.Host.Release(seq.HostBlocks);
        seq.HostBlocks = 0;
        if (seq.Session is { } session)
        {
            session.Active = null;
            if (reason != FinishReason.Cancelled && seq.HbmBlocks > 0)
            {
                // The turn's KV (history, prompt and output) stays resident as the session's history.
                session.ContextTokens = seq.KvTokens;
                session.Location = KvLocation.Hbm;
                session.Blocks = seq.HbmBlocks;
                _kv.Park(session);
                seq.HbmBlocks = 0;
            }

            _sessions.MarkIdle(session, now);
        }

        if (seq.Prefix is { } prompt)
        {
            // The answer's full blocks join the cache too, when it filled any (cancelled or not: its KV was computed).
            if (seq.Request.HashesWithOutput is { } extend && seq.KvTokens / Options.BlockSize > prompt.Count)
            {
                try
                {
                    var extended = extend(seq.Generated);
                    // The chain must continue the prompt's: the pins taken are released by these hashes.
                    seq.Prefix = extended.Count >= prompt.Count && extended.Take(prompt.Count).SequenceEqual(prompt)
                        ? extended
                        : throw new InvalidOperationException($"request {seq.Request.RequestId}: the hashes with its output do not begin with its prompt's");
                }
                catch (Exception ex)
                {
                    // The face's code, run on the engine's thread: its failure costs the answer's cache entries, not the engine.
                    Fault(ex);
                }
            }

            ReleasePrefix(seq);
        }

        _kv.Hbm.Release(seq.HbmBlocks);
        seq.HbmBlocks = 0;
        bool started = !double.IsNaN(seq.FirstTokenTime);
        double ttft = started ? seq.FirstTokenTime - seq.ArrivalTime : now - seq.ArrivalTime;
        // The host finishes the response (detokenising, API) after the last token; a cancelled request has no response.
        double ending = reason == FinishReason.Cancelled ? 0 : _efficiency.FinishOverheadSeconds;
        var result = new RequestResult
        {
            Request = seq.Request,
            FinishReason = reason,
            CacheState = seq.Cache,
            PromptTokens = seq.Request.PromptTokens,
            CachedTokens = seq.CachedTokens,
            CompletionTokens = seq.Generated,
            RecomputedTokens = seq.RecomputedTokens,
            Preemptions = seq.Preemptions,
            Admitted = seq.Admitted,
            ArrivalTime = seq.ArrivalTime,
            FirstTokenTime = seq.FirstTokenTime,
            FinishTime = now + ending,
            SwapInSeconds = seq.SwapInSeconds,
            PrefillSeconds = seq.PrefillSeconds,
            QueueSeconds = Math.Max(0, ttft - seq.SwapInSeconds - seq.PrefillSeconds),
            DecodeSeconds = started ? now - seq.FirstTokenTime : 0,
        };
        if (ending > 0)
        {
            _ending.Add(seq, result);
            // Unless CancelAll delivered it first.
            _clock.Schedule(result.FinishTime, _ =>
            {
                if (_ending.Remove(seq))
                {
                    Deliver(seq, result);
                }
            });
            return;
        }

        Deliver(seq, result);
    }

    /// <summary>Ends the request's handle and reports it finished, at <see cref="RequestResult.FinishTime"/> (or sooner when the engine stops).</summary>
    private void Deliver(Sequence seq, RequestResult result)
    {
        seq.Handle.End(result);
        Notify(new EngineEvent(Now, EngineEventKind.Finished, seq.Request, seq.Request.SessionId, seq.Generated, Detail: result.FinishReason.ToString(), Result: result));
    }

    private void Preempt(Sequence victim, StepPlan plan)
    {
        _running.Remove(victim);
        victim.Preemptions++;
        long tokens = victim.KvTokens;
        if (victim.Prefix is not null)
        {
            // Shared blocks cannot go to host with the sequence: as in vLLM v1, it is recomputed, and its blocks wait
            // in the prefix cache for it.
            DropForRecompute(victim);
        }
        else
        {
            _preemption.Preempt(this, victim, plan);
        }

        string mode = victim.State == SequenceState.Swapped ? PreemptionPolicies.Swap : PreemptionPolicies.Recompute;
        Emit(EngineEventKind.Preempted, victim, count: tokens, detail: mode);
    }
}
