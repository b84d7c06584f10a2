namespace MockServe.Core.Profiles;

/// <summary>A profile, profile file or profile id that cannot be used; the message names the field.</summary>
public sealed class ProfileException(string message) : Exception(message);
