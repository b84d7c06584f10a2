using Google.Protobuf;

using MockServe.Contracts.Inference;

namespace MockServe.Server.Tests.Triton;

/// <summary>
/// Our inference protos against Triton's published wire format: each message is written here byte by byte with the
/// field numbers and wire types of Triton's grpc_service.proto and model_config.proto (written out by hand from
/// those files, not from ours), then decoded with our generated classes; responses go the other way and must come
/// out byte for byte as written here.
/// </summary>
public class TritonWireTests
{
    private const WireFormat.WireType Varint = WireFormat.WireType.Varint;
    private const WireFormat.WireType Delimited = WireFormat.WireType.LengthDelimited;

    private static ByteString Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        write(output);
        output.Flush();
        return ByteString.CopyFrom(buffer.ToArray());
    }

    private static void Text(CodedOutputStream o, int field, string value)
    {
        o.WriteTag(field, Delimited);
        o.WriteString(value);
    }

    private static void Bytes(CodedOutputStream o, int field, ByteString value)
    {
        o.WriteTag(field, Delimited);
        o.WriteBytes(value);
    }

    private static void Number(CodedOutputStream o, int field, ulong value)
    {
        o.WriteTag(field, Varint);
        o.WriteUInt64(value);
    }

    /// <summary>A packed repeated int64 (proto3 packs repeated scalars).</summary>
    private static void PackedInt64(CodedOutputStream o, int field, params long[] values) =>
        Bytes(o, field, Message(inner =>
        {
            foreach (long v in values)
            {
                inner.WriteInt64(v);
            }
        }));

    /// <summary>One entry of a map&lt;string, InferParameter&gt;: key 1, value 2.</summary>
    private static void ParameterEntry(CodedOutputStream o, int field, string key, Action<CodedOutputStream> value) =>
        Bytes(o, field, Message(entry =>
        {
            Text(entry, 1, key);
            Bytes(entry, 2, Message(value));
        }));

    [Fact]
    public void ModelInferRequest_WrittenByHand_DecodesEveryField()
    {
        // ModelInferRequest: model_name 1, model_version 2, id 3, parameters 4, inputs 5, outputs 6, raw_input_contents 7.
        // InferParameter: bool_param 1, int64_param 2, string_param 3, double_param 4, uint64_param 5. InferInputTensor: name 1, datatype 2, shape 3,
        // parameters 4, contents 5. InferRequestedOutputTensor: name 1, parameters 2.
        var wire = Message(o =>
        {
            Text(o, 1, "llm");
            Text(o, 2, "1");
            Text(o, 3, "req-7");
            ParameterEntry(o, 4, "sequence_id", p => Number(p, 2, 42));
            ParameterEntry(o, 4, "triton_enable_empty_final_response", p => Number(p, 1, 1));
            ParameterEntry(o, 4, "session", p => Text(p, 3, "chat-1"));
            ParameterEntry(o, 4, "temperature", p =>
            {
                p.WriteTag(4, WireFormat.WireType.Fixed64);
                p.WriteDouble(0.5);
            });
            ParameterEntry(o, 4, "seed", p => Number(p, 5, ulong.MaxValue));
            Bytes(o, 5, Message(t =>
            {
                Text(t, 1, "text_input");
                Text(t, 2, "BYTES");
                PackedInt64(t, 3, 1);
                ParameterEntry(t, 4, "note", p => Text(p, 3, "x"));
            }));
            Bytes(o, 5, Message(t =>
            {
                Text(t, 1, "stream");
                Text(t, 2, "BOOL");
                PackedInt64(t, 3, 1);
                Bytes(t, 5, Message(c => Bytes(c, 1, ByteString.CopyFrom(1))));
            }));
            Bytes(o, 6, Message(r =>
            {
                Text(r, 1, "text_output");
                ParameterEntry(r, 2, "binary_data", p => Number(p, 1, 0));
            }));
            // "hi" as a BYTES element: a 4-byte little-endian length, then the bytes.
            Bytes(o, 7, ByteString.CopyFrom(2, 0, 0, 0, (byte)'h', (byte)'i'));
        });

        var request = ModelInferRequest.Parser.ParseFrom(wire);

        Assert.Equal(("llm", "1", "req-7"), (request.ModelName, request.ModelVersion, request.Id));
        Assert.Equal(42, request.Parameters["sequence_id"].Int64Param);
        Assert.True(request.Parameters["triton_enable_empty_final_response"].BoolParam);
        Assert.Equal("chat-1", request.Parameters["session"].StringParam);
        Assert.Equal(0.5, request.Parameters["temperature"].DoubleParam);
        Assert.Equal(ulong.MaxValue, request.Parameters["seed"].Uint64Param);
        Assert.Equal(2, request.Inputs.Count);
        Assert.Equal(("text_input", "BYTES", 1L), (request.Inputs[0].Name, request.Inputs[0].Datatype, Assert.Single(request.Inputs[0].Shape)));
        Assert.Equal("x", request.Inputs[0].Parameters["note"].StringParam);
        Assert.Equal(("stream", "BOOL"), (request.Inputs[1].Name, request.Inputs[1].Datatype));
        Assert.True(Assert.Single(request.Inputs[1].Contents.BoolContents));
        var output = Assert.Single(request.Outputs);
        Assert.Equal("text_output", output.Name);
        Assert.Equal(InferParameter.ParameterChoiceOneofCase.BoolParam, output.Parameters["binary_data"].ParameterChoiceCase);
        Assert.Equal(new byte[] { 2, 0, 0, 0, (byte)'h', (byte)'i' }, Assert.Single(request.RawInputContents).ToByteArray());
    }

    [Fact]
    public void InferTensorContents_WrittenByHand_DecodesEveryType()
    {
        // InferTensorContents: bool 1, int 2 (int32), int64 3, uint 4 (uint32), uint64 5, fp32 6, fp64 7, bytes 8.
        var wire = Message(o =>
        {
            Bytes(o, 1, Message(p => p.WriteBool(true)));
            Bytes(o, 2, Message(p => p.WriteInt32(-3)));
            Bytes(o, 3, Message(p => p.WriteInt64(1L << 40)));
            Bytes(o, 4, Message(p => p.WriteUInt32(7)));
            Bytes(o, 5, Message(p => p.WriteUInt64(1UL << 63)));
            Bytes(o, 6, Message(p => p.WriteFloat(0.5f)));
            Bytes(o, 7, Message(p => p.WriteDouble(0.25)));
            Bytes(o, 8, ByteString.CopyFromUtf8("{\"max_tokens\":16}"));
        });

        var contents = InferTensorContents.Parser.ParseFrom(wire);

        Assert.True(Assert.Single(contents.BoolContents));
        Assert.Equal(-3, Assert.Single(contents.IntContents));
        Assert.Equal(1L << 40, Assert.Single(contents.Int64Contents));
        Assert.Equal(7u, Assert.Single(contents.UintContents));
        Assert.Equal(1UL << 63, Assert.Single(contents.Uint64Contents));
        Assert.Equal(0.5f, Assert.Single(contents.Fp32Contents));
        Assert.Equal(0.25, Assert.Single(contents.Fp64Contents));
        Assert.Equal("{\"max_tokens\":16}", Assert.Single(contents.BytesContents).ToStringUtf8());
    }

    [Fact]
    public void ModelRequests_WrittenByHand_NameOneVersionTwo()
    {
        // ModelReadyRequest, ModelMetadataRequest, ModelConfigRequest, ModelStatisticsRequest: name 1, version 2.
        var wire = Message(o =>
        {
            Text(o, 1, "llm");
            Text(o, 2, "1");
        });

        Assert.Equal(("llm", "1"), ModelReadyRequest.Parser.ParseFrom(wire) is var a ? (a.Name, a.Version) : default);
        Assert.Equal(("llm", "1"), ModelMetadataRequest.Parser.ParseFrom(wire) is var b ? (b.Name, b.Version) : default);
        Assert.Equal(("llm", "1"), ModelConfigRequest.Parser.ParseFrom(wire) is var c ? (c.Name, c.Version) : default);
        Assert.Equal(("llm", "1"), ModelStatisticsRequest.Parser.ParseFrom(wire) is var d ? (d.Name, d.Version) : default);
    }

    [Fact]
    public void RepositoryIndexRequest_WrittenByHand_RepositoryNameAndReady()
    {
        // RepositoryIndexRequest: repository_name 1, ready 2.
        var wire = Message(o =>
        {
            Text(o, 1, "models");
            Number(o, 2, 1);
        });

        var request = RepositoryIndexRequest.Parser.ParseFrom(wire);

        Assert.Equal(("models", true), (request.RepositoryName, request.Ready));
    }

    [Fact]
    public void HealthResponses_Encoded_BoolInFieldOne()
    {
        // ServerLiveResponse.live 1, ServerReadyResponse.ready 1, ModelReadyResponse.ready 1.
        var expected = Message(o => Number(o, 1, 1));

        Assert.Equal(expected, new ServerLiveResponse { Live = true }.ToByteString());
        Assert.Equal(expected, new ServerReadyResponse { Ready = true }.ToByteString());
        Assert.Equal(expected, new ModelReadyResponse { Ready = true }.ToByteString());
    }

    [Fact]
    public void ServerMetadataResponse_Encoded_AsWrittenByHand()
    {
        // ServerMetadataResponse: name 1, version 2, extensions 3 (repeated string).
        var expected = Message(o =>
        {
            Text(o, 1, "mockserve");
            Text(o, 2, "1.0.0");
            Text(o, 3, "model_configuration");
            Text(o, 3, "statistics");
        });

        var response = new ServerMetadataResponse { Name = "mockserve", Version = "1.0.0", Extensions = { "model_configuration", "statistics" } };

        Assert.Equal(expected, response.ToByteString());
    }

    [Fact]
    public void ModelMetadataResponse_Encoded_AsWrittenByHand()
    {
        // ModelMetadataResponse: name 1, versions 2, platform 3, inputs 4, outputs 5; TensorMetadata: name 1, datatype 2, shape 3.
        var expected = Message(o =>
        {
            Text(o, 1, "llm");
            Text(o, 2, "1");
            Text(o, 3, "p");
            Bytes(o, 4, Message(t =>
            {
                Text(t, 1, "text_input");
                Text(t, 2, "BYTES");
                PackedInt64(t, 3, 1);
            }));
            Bytes(o, 5, Message(t =>
            {
                Text(t, 1, "text_output");
                Text(t, 2, "BYTES");
                PackedInt64(t, 3, -1);
            }));
        });

        var response = new ModelMetadataResponse
        {
            Name = "llm",
            Versions = { "1" },
            Platform = "p",
            Inputs = { new ModelMetadataResponse.Types.TensorMetadata { Name = "text_input", Datatype = "BYTES", Shape = { 1 } } },
            Outputs = { new ModelMetadataResponse.Types.TensorMetadata { Name = "text_output", Datatype = "BYTES", Shape = { -1 } } },
        };

        Assert.Equal(expected, response.ToByteString());
    }

    [Fact]
    public void ModelConfigResponse_Encoded_AsWrittenByHand()
    {
        // ModelConfigResponse: config 1. ModelConfig: name 1, platform 2, max_batch_size 4, input 5, output 6, backend 17,
        // model_transaction_policy 19. ModelInput: name 1, data_type 2, dims 4, optional 8. ModelOutput: name 1,
        // data_type 2, dims 3. ModelTransactionPolicy: decoupled 1. DataType: TYPE_BOOL 1, TYPE_STRING 13.
        var expected = Message(o => Bytes(o, 1, Message(c =>
        {
            Text(c, 1, "llm");
            Number(c, 4, 2);
            Bytes(c, 5, Message(i =>
            {
                Text(i, 1, "stream");
                Number(i, 2, 1);
                PackedInt64(i, 4, 1);
                Number(i, 8, 1);
            }));
            Bytes(c, 6, Message(i =>
            {
                Text(i, 1, "text_output");
                Number(i, 2, 13);
                PackedInt64(i, 3, -1);
            }));
            Text(c, 17, "vllm");
            Bytes(c, 19, Message(p => Number(p, 1, 1)));
        })));

        var response = new ModelConfigResponse
        {
            Config = new ModelConfig
            {
                Name = "llm",
                MaxBatchSize = 2,
                Input = { new ModelInput { Name = "stream", DataType = DataType.TypeBool, Dims = { 1 }, Optional = true } },
                Output = { new ModelOutput { Name = "text_output", DataType = DataType.TypeString, Dims = { -1 } } },
                Backend = "vllm",
                ModelTransactionPolicy = new ModelTransactionPolicy { Decoupled = true },
            },
        };

        Assert.Equal(expected, response.ToByteString());
    }

    [Fact]
    public void ModelStreamInferResponse_Encoded_AsWrittenByHand()
    {
        // ModelStreamInferResponse: error_message 1, infer_response 2. ModelInferResponse: model_name 1, model_version 2,
        // id 3, parameters 4, outputs 5, raw_output_contents 6. InferOutputTensor: name 1, datatype 2, shape 3,
        // parameters 4, contents 5.
        var expected = Message(o =>
        {
            Text(o, 1, "late");
            Bytes(o, 2, Message(r =>
            {
                Text(r, 1, "llm");
                Text(r, 2, "1");
                Text(r, 3, "req-7");
                ParameterEntry(r, 4, "triton_final_response", p => Number(p, 1, 1));
                Bytes(r, 5, Message(t =>
                {
                    Text(t, 1, "text_output");
                    Text(t, 2, "BYTES");
                    PackedInt64(t, 3, 1);
                    Bytes(t, 5, Message(c => Bytes(c, 8, ByteString.CopyFromUtf8("ok"))));
                }));
                Bytes(r, 6, ByteString.CopyFrom(2, 0, 0, 0, (byte)'o', (byte)'k'));
            }));
        });

        var response = new ModelStreamInferResponse
        {
            ErrorMessage = "late",
            InferResponse = new ModelInferResponse
            {
                ModelName = "llm",
                ModelVersion = "1",
                Id = "req-7",
                Parameters = { ["triton_final_response"] = new InferParameter { BoolParam = true } },
                Outputs =
                {
                    new ModelInferResponse.Types.InferOutputTensor
                    {
                        Name = "text_output",
                        Datatype = "BYTES",
                        Shape = { 1 },
                        Contents = new InferTensorContents { BytesContents = { ByteString.CopyFromUtf8("ok") } },
                    },
                },
                RawOutputContents = { ByteString.CopyFrom(2, 0, 0, 0, (byte)'o', (byte)'k') },
            },
        };

        Assert.Equal(expected, response.ToByteString());
    }

    [Fact]
    public void ModelStatisticsResponse_Encoded_AsWrittenByHand()
    {
        // ModelStatisticsResponse: model_stats 1. ModelStatistics: name 1, version 2, last_inference 3, inference_count 4,
        // execution_count 5, inference_stats 6. InferStatistics: success 1, fail 2, queue 3, compute_input 4,
        // compute_infer 5, compute_output 6. StatisticDuration: count 1, ns 2.
        var expected = Message(o => Bytes(o, 1, Message(s =>
        {
            Text(s, 1, "llm");
            Text(s, 2, "1");
            Number(s, 3, 1_700_000_000_000);
            Number(s, 4, 3);
            Number(s, 5, 3);
            Bytes(s, 6, Message(i =>
            {
                for (int field = 1; field <= 6; field++)
                {
                    ulong n = (ulong)field;
                    Bytes(i, field, Message(d =>
                    {
                        Number(d, 1, n);
                        Number(d, 2, n * 1000);
                    }));
                }
            }));
        })));

        static StatisticDuration D(ulong n) => new() { Count = n, Ns = n * 1000 };
        var response = new ModelStatisticsResponse
        {
            ModelStats =
            {
                new ModelStatistics
                {
                    Name = "llm",
                    Version = "1",
                    LastInference = 1_700_000_000_000,
                    InferenceCount = 3,
                    ExecutionCount = 3,
                    InferenceStats = new InferStatistics
                    {
                        Success = D(1),
                        Fail = D(2),
                        Queue = D(3),
                        ComputeInput = D(4),
                        ComputeInfer = D(5),
                        ComputeOutput = D(6),
                    },
                },
            },
        };

        Assert.Equal(expected, response.ToByteString());
    }

    [Fact]
    public void RepositoryIndexResponse_Encoded_AsWrittenByHand()
    {
        // RepositoryIndexResponse: models 1. ModelIndex: name 1, version 2, state 3, reason 4.
        var expected = Message(o => Bytes(o, 1, Message(m =>
        {
            Text(m, 1, "llm");
            Text(m, 2, "1");
            Text(m, 3, "UNAVAILABLE");
            Text(m, 4, "warming up");
        })));

        var response = new RepositoryIndexResponse
        {
            Models = { new RepositoryIndexResponse.Types.ModelIndex { Name = "llm", Version = "1", State = "UNAVAILABLE", Reason = "warming up" } },
        };

        Assert.Equal(expected, response.ToByteString());
    }
}
